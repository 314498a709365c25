/**
 * WebSockets on an HTTPS listener: the ws() behavior is registered on the
 * default certificate's routes and on every SNI name's, so wss:// works
 * whichever certificate the client asked for, and plain HTTPS requests on
 * the same path still reach the HTTP handler.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { freePort, startGateway } from '../helpers/gateway.js';
import { makeTestPki } from '../helpers/pki.js';
import { nextMessage, openWs, startWsUpstream } from './websocket-upstream.js';

t.test('wss:// through an HTTPS listener, default certificate and SNI', async (t) => {
  const pki = makeTestPki(['api.test', 'other.test']);
  const ca = readFileSync(pki.caCert);
  const upstream = await startWsUpstream();
  const port = await freePort();
  const gw = await startGateway({
    listeners: [
      {
        name: 'public',
        host: '127.0.0.1',
        port,
        tls: {
          certificates: [
            { cert: pki.server['api.test'].cert, key: pki.server['api.test'].key },
            { cert: pki.server['other.test'].cert, key: pki.server['other.test'].key, serverNames: ['other.test'] },
          ],
        },
      },
    ],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [{ name: 'ws', match: { path: '/ws/*' }, upstream: 'app', public: true, websocket: { enabled: true } }],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });

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
