/**
 * WebSockets on an HTTPS listener: the ws() behavior is registered on the
 * default certificate's routes and on every SNI name's, so wss:// works
 * whichever certificate the client asked for, and plain HTTPS requests on
 * the same path still reach the HTTP handler.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { WebSocketServer } from 'ws';
import { freePort, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { makeTestPki } from '../helpers/pki.js';
import { nextMessage, openWs, startWsUpstream, type WsUpstream } from './websocket-upstream.js';

// One PKI and one gateway for both subtests (each start is a few seconds of CPU
// on a small machine): an HTTPS listener for the first, a plain listener in
// front of the TLS upstreams for the second. Routes and upstreams are disjoint.
const pki = makeTestPki(['api.test', 'other.test', 'svc.test']);
const ca = readFileSync(pki.caCert);
let upstream: WsUpstream;
let tlsPort: number;
let plainPort: number;
let handshakes = 0;
let gw: RunningGateway | undefined;
const server = createServer({ cert: readFileSync(pki.server['svc.test'].cert), key: readFileSync(pki.server['svc.test'].key) });
const wss = new WebSocketServer({ server });

t.before(async () => {
  upstream = await startWsUpstream();
  wss.on('connection', (ws) => {
    handshakes++;
    ws.on('message', (d, binary) => ws.send(d, { binary }));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const upstreamUrl = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  [tlsPort, plainPort] = [await freePort(), await freePort()];
  gw = await startGateway({
    listeners: [
      {
        name: 'public',
        host: '127.0.0.1',
        port: tlsPort,
        tls: {
          certificates: [
            { cert: pki.server['api.test'].cert, key: pki.server['api.test'].key },
            { cert: pki.server['other.test'].cert, key: pki.server['other.test'].key, serverNames: ['other.test'] },
          ],
        },
      },
      { name: 'main', host: '127.0.0.1', port: plainPort },
    ],
    upstreams: [
      { name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] },
      { name: 'trusted', targets: [{ url: upstreamUrl }], tls: { ca: { file: pki.caCert }, servername: 'svc.test' } },
      { name: 'untrusted', targets: [{ url: upstreamUrl }], tls: { servername: 'svc.test' } },
    ],
    routes: [
      { name: 'ws', match: { path: '/ws/*' }, upstream: 'app', public: true, websocket: { enabled: true } },
      { name: 'trusted', match: { path: '/trusted/*' }, upstream: 'trusted', public: true, websocket: { enabled: true } },
      { name: 'untrusted', match: { path: '/untrusted/*' }, upstream: 'untrusted', public: true, websocket: { enabled: true } },
    ],
  });
});

t.teardown(async () => {
  await gw?.stop();
  await upstream?.close();
  for (const c of wss.clients) c.terminate();
  server.close();
});

t.test('wss:// through an HTTPS listener, default certificate and SNI', async (t) => {
  const port = tlsPort;
  for (const servername of ['api.test', 'other.test']) {
    const opened = await openWs(`wss://127.0.0.1:${port}/ws/echo`, { tls: { ca, servername } });
    if (!opened.ok) {
      t.fail(`${servername}: refused ${opened.status}`);
      continue;
    }
    const reply = nextMessage(opened.ws);
    opened.ws.send(`over TLS to ${servername}`);
    t.equal((await reply).data.toString(), `over TLS to ${servername}`, `${servername}: echo through wss://`);
    t.equal(upstream.handshakes.at(-1)!.headers['x-forwarded-proto'], 'https', `${servername}: the upstream is told the client used https`);
    opened.ws.close();
  }

  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/ws/plain', servername: 'other.test', ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(status, 200, 'plain HTTPS on the same path (SNI name) reaches the HTTP handler');
});

t.test('wss:// to an https:// upstream: its TLS settings apply; an untrusted certificate is a 502 with no handshake', async (t) => {
  const port = plainPort;
  const opened = await openWs(`ws://127.0.0.1:${port}/trusted/x`);
  if (!opened.ok) return t.fail(`refused: ${opened.status} ${opened.body}`);
  const reply = nextMessage(opened.ws);
  opened.ws.send('to a TLS upstream');
  t.equal((await reply).data.toString(), 'to a TLS upstream', 'echo through wss:// upstream with the configured CA and name');
  opened.ws.close();

  const before = handshakes;
  const refused = await openWs(`ws://127.0.0.1:${port}/untrusted/x`);
  t.equal(refused.ok ? 'open' : refused.status, 502, 'untrusted upstream certificate: 502');
  if (!refused.ok) t.match(JSON.parse(refused.body), { code: 'ZTG_UPSTREAM_TLS' });
  t.equal(handshakes, before, 'no WebSocket handshake reached the untrusted service');
});
