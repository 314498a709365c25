/**
 * WebSocket proxying through a real gateway process: the handshake passes the
 * route's stages like any request (refusals are problem+json answers and never
 * reach the upstream), then messages flow both ways with their type, sizes are
 * limited, and either side closing closes the other with the code mapped.
 * Faults (upstream vanishing, slow readers, idle sessions, shutdown) are in
 * websocket-faults.test.ts.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { freePort, startGateway } from '../helpers/gateway.js';
import { closedWith, nextMessage, openWs, startWsUpstream } from './websocket-upstream.js';

const KEY = 'zk_ws_test_key_0123456789abcdef';

t.test('WebSocket proxying', async (t) => {
  const upstream = await startWsUpstream();
  const port = await freePort();
  const deadPort = await freePort(); // nothing listens there
  const ws = (extra: Record<string, unknown> = {}) => ({ enabled: true, maxMessageBytes: 64 * 1024, ...extra });
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [
      { name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] },
      { name: 'dead', targets: [{ url: `http://127.0.0.1:${deadPort}` }], timeouts: { connectMs: 500 } },
    ],
    identity: { consumers: [{ name: 'acme', environment: 'prod', apiKeys: [{ sha256: createHash('sha256').update(KEY).digest('hex') }] }] },
    routes: [
      { name: 'ws', match: { path: '/ws/*' }, upstream: 'app', public: true, websocket: ws() },
      {
        name: 'auth',
        match: { path: '/auth/*' },
        upstream: 'app',
        websocket: ws(),
        stages: [{ type: 'identity', environment: 'prod', methods: [{ apiKey: {} }] }],
      },
      {
        name: 'limited',
        match: { path: '/limited/*' },
        upstream: 'app',
        public: true,
        websocket: ws(),
        stages: [{ type: 'rate-limit', limits: [{ rate: '2/min', burst: 2, key: ['ip'] }] }],
      },
      { name: 'inspected', match: { path: '/inspected/*' }, upstream: 'app', public: true, websocket: ws(), stages: [{ type: 'inspect' }] },
      { name: 'dead', match: { path: '/dead/*' }, upstream: 'dead', public: true, websocket: ws() },
      { name: 'plain', match: { path: '/plain/*' }, upstream: 'app', public: true },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const base = `ws://127.0.0.1:${port}`;
  const handshakes = () => upstream.handshakes.length;

  await t.test('text and binary messages echo through with their type; the subprotocol is the upstream’s choice', async (t) => {
    const opened = await openWs(`${base}/ws/echo?room=1`, { protocols: ['chat.v2', 'chat.v1'], headers: { 'x-consumer-id': 'forged', 'x-trace-me': 'yes' } });
    if (!opened.ok) return t.fail(`refused: ${opened.status} ${opened.body}`);
    const c = opened.ws;
    t.equal(c.protocol, 'chat.v1', 'the subprotocol the upstream chose reaches the client');
    let reply = nextMessage(c);
    c.send('hello');
    t.same(await reply, { data: Buffer.from('hello'), binary: false }, 'text stays text');
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    reply = nextMessage(c);
    c.send(bytes);
    t.same(await reply, { data: bytes, binary: true }, 'binary stays binary, bytes intact');
    const big = Buffer.alloc(60 * 1024, 7);
    reply = nextMessage(c);
    c.send(big);
    t.ok((await reply).data.equals(big), 'a message just under the limit passes');

    const seen = upstream.handshakes.at(-1)!;
    t.equal(seen.path, '/ws/echo?room=1', 'path and query forwarded');
    t.equal(seen.headers['x-consumer-id'], undefined, 'client-sent identity header stripped');
    t.equal(seen.headers['x-trace-me'], 'yes', 'end-to-end headers kept');
    t.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'forwarding headers set');
    t.match(seen.headers.forwarded, /for=127\.0\.0\.1;proto=http/);
    t.ok(seen.headers['x-request-id'], 'request id forwarded');
    t.match(seen.headers['sec-websocket-protocol'], /^chat\.v2, ?chat\.v1$/, 'offered subprotocols forwarded, in order');
    t.equal(seen.headers['sec-websocket-extensions'], undefined, 'no compression negotiated upstream');

    const closed = closedWith(c);
    const upstreamClosed = upstream.sessions.at(-1)!.closed;
    c.close(4001, 'bye now');
    t.same(await upstreamClosed, { code: 4001, reason: 'bye now' }, 'the client’s close code and reason reach the upstream');
    t.equal((await closed).code, 4001, 'the close handshake completes');
    const line = await gw.waitForLog((l) => l.msg === 'websocket closed' && l.route === 'ws');
    t.match(line, { closedBy: 'client', code: 4001 }, 'the session end is logged');
    const access = await gw.waitForLog((l) => l.msg === 'access' && l.route === 'ws' && l.status === 101);
    t.match(access, { method: 'GET', path: '/ws/echo', upstream: 'app' }, 'the session has its access line (status 101) when it ends');
    t.ok((access.bytesIn as number) >= 60 * 1024 + 5, 'with the message bytes it carried');
  });

  await t.test('the upstream closing closes the client with its code and reason', async (t) => {
    const session = upstream.nextSession('/ws/quiet');
    const opened = await openWs(`${base}/ws/quiet`);
    if (!opened.ok) return t.fail(`refused: ${opened.status}`);
    const s = await session;
    const closed = closedWith(opened.ws);
    s.socket.close(4002, 'done here');
    t.same(await closed, { code: 4002, reason: 'done here' });
  });

  await t.test('a message over maxMessageBytes closes the session with 1009, both ways', async (t) => {
    let session = upstream.nextSession('/ws/quiet');
    let opened = await openWs(`${base}/ws/quiet`);
    if (!opened.ok) return t.fail('refused');
    let s = await session;
    let received = 0;
    s.socket.on('message', () => received++);
    let closed = closedWith(opened.ws);
    opened.ws.send(Buffer.alloc(64 * 1024 + 1));
    t.equal((await closed).code, 1009, 'client sent too much: 1009');
    t.equal((await s.closed).code, 1009, 'the upstream is closed with 1009 too');
    t.equal(received, 0, 'the oversized message never reached the upstream');

    session = upstream.nextSession('/ws/quiet');
    opened = await openWs(`${base}/ws/quiet`);
    if (!opened.ok) return t.fail('refused');
    s = await session;
    let got = 0;
    opened.ws.on('message', () => got++);
    closed = closedWith(opened.ws);
    s.socket.send(Buffer.alloc(64 * 1024 + 1));
    t.equal((await closed).code, 1009, 'upstream sent too much: the client gets 1009');
    t.equal(got, 0, 'the oversized message never reached the client');
    await gw.waitForLog((l) => l.msg === 'websocket closed' && typeof l.reason === 'string' && (l.reason as string).includes('upstream error'));
  });

  await t.test('a message over the listener ceiling (uWS maxPayloadLength): uWS cuts the client, the upstream gets 1009', async (t) => {
    // Every route here allows 64 KiB; the listener ceiling is the 1 MiB floor.
    const session = upstream.nextSession('/ws/quiet');
    const opened = await openWs(`${base}/ws/quiet`);
    if (!opened.ok) return t.fail('refused');
    const s = await session;
    const closed = closedWith(opened.ws);
    opened.ws.send(Buffer.alloc(1024 * 1024 + 1));
    t.equal((await closed).code, 1006, 'uWS closes the connection without a close frame (client sees 1006)');
    t.equal((await s.closed).code, 1009, 'the upstream is told why: 1009');
    await gw.waitForLog((l) => l.msg === 'websocket closed' && String(l.reason).includes('ceiling'));
  });

  await t.test('plain HTTP on a WebSocket route keeps working', async (t) => {
    const res = await fetch(`http://127.0.0.1:${port}/ws/echo`);
    t.equal(res.status, 200);
    t.same(await res.json(), { plain: true, url: '/ws/echo' }, 'a request without an upgrade is proxied as HTTP');
    const post = await fetch(`http://127.0.0.1:${port}/ws/echo`, { method: 'POST', body: 'x' });
    t.equal(post.status, 200);
  });

  await t.test('a route without websocket enabled refuses the handshake (deny by default)', async (t) => {
    const before = handshakes();
    const r = await openWs(`${base}/plain/x`);
    t.equal(r.ok, false);
    if (r.ok) return;
    t.equal(r.status, 403);
    t.equal(r.headers['content-type'], 'application/problem+json');
    t.match(JSON.parse(r.body), { code: 'ZTG_FORBIDDEN' });
    t.equal(handshakes(), before, 'the upstream saw no handshake');
    await gw.waitForLog((l) => l.code === 'ZTG_FORBIDDEN' && l.websocket === true);
    const plain = await fetch(`http://127.0.0.1:${port}/plain/x`);
    t.equal(plain.status, 200, 'plain HTTP on that route is unaffected');
  });

  await t.test('identity refuses the upgrade: 401 problem+json, no upstream connection', async (t) => {
    const before = handshakes();
    const r = await openWs(`${base}/auth/echo`);
    t.equal(r.ok, false);
    if (r.ok) return;
    t.equal(r.status, 401);
    t.equal(r.headers['content-type'], 'application/problem+json');
    t.match(JSON.parse(r.body), { code: 'ZTG_UNAUTHENTICATED', status: 401 });
    t.equal(handshakes(), before, 'no upstream handshake');
    await gw.waitForLog((l) => l.msg === 'access' && l.route === 'auth' && l.status === 401 && l.code === 'ZTG_UNAUTHENTICATED');

    const ok = await openWs(`${base}/auth/echo`, { headers: { 'x-api-key': KEY } });
    if (!ok.ok) return t.fail(`valid key refused: ${ok.status} ${ok.body}`);
    const seen = upstream.handshakes.at(-1)!;
    t.equal(seen.headers['x-authenticated-subject'], 'acme', 'the verified identity travels upstream');
    t.equal(seen.headers['x-authenticated-method'], 'apiKey');
    const reply = nextMessage(ok.ws);
    ok.ws.send('authenticated');
    t.equal((await reply).data.toString(), 'authenticated');
    ok.ws.close();
  });

  await t.test('a rate-limited upgrade gets 429', async (t) => {
    const statuses: (number | 'open')[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await openWs(`${base}/limited/echo`);
      statuses.push(r.ok ? 'open' : r.status);
      if (r.ok) r.ws.close();
    }
    t.same(statuses, ['open', 'open', 429], 'burst of 2 admitted, the third refused');
  });

  await t.test('inspection looks at the handshake: an attack in the query is refused 403', async (t) => {
    const before = handshakes();
    const r = await openWs(`${base}/inspected/echo?id=${encodeURIComponent("1' OR '1'='1")}`);
    t.equal(r.ok ? 'open' : r.status, 403);
    t.equal(handshakes(), before, 'no upstream handshake');
    const clean = await openWs(`${base}/inspected/echo?id=42`);
    t.equal(clean.ok, true, 'a clean handshake passes');
    if (clean.ok) clean.ws.close();
  });

  await t.test('the upstream refusing the upgrade is a 502 to the client', async (t) => {
    for (const status of [404, 500]) {
      const r = await openWs(`${base}/ws/refuse${status}`);
      t.equal(r.ok ? 'open' : r.status, 502, `upstream ${status}: 502`);
      if (!r.ok) t.match(JSON.parse(r.body), { code: 'ZTG_UPSTREAM_BAD_RESPONSE' });
      await gw.waitForLog((l) => l.code === 'ZTG_UPSTREAM_BAD_RESPONSE' && String(l.reason).includes(`with ${status}`));
    }
    const down = await openWs(`${base}/dead/echo`);
    t.equal(down.ok ? 'open' : down.status, 502, 'upstream not listening: 502');
    if (!down.ok) t.match(JSON.parse(down.body), { code: 'ZTG_UPSTREAM_CONNECT' });
  });

  await t.test('a handshake with a version other than 13 is refused, naming 13', async (t) => {
    const { rawRequest } = await import('../helpers/gateway.js');
    const r = await rawRequest(
      port,
      'GET /ws/echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n',
    );
    t.equal(r.status, 400);
    t.equal(r.headers['sec-websocket-version'], '13');
  });

  await t.test('the gateway still serves after all of the above', async (t) => {
    const opened = await openWs(`${base}/ws/echo`);
    if (!opened.ok) return t.fail('refused');
    const reply = nextMessage(opened.ws);
    opened.ws.send('still here');
    t.equal((await reply).data.toString(), 'still here');
    opened.ws.close();
    t.equal((await fetch(`http://127.0.0.1:${port}/plain/y`)).status, 200);
  });
});
