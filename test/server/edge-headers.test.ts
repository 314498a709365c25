import t from 'tap';
import { basicConfig, freePort, rawRequest, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

/**
 * Client headers that backends read as identity, client address, URL or
 * method: what the upstream receives, over raw sockets against a real gateway.
 */

const SPOOFED = [
  'X-Real-IP: 10.9.9.9',
  'True-Client-IP: 10.9.9.9',
  'X-Client-IP: 10.9.9.9',
  'CF-Connecting-IP: 10.9.9.9',
  'X-Forwarded-Port: 8443',
  'X-Forwarded-Prefix: /admin',
  'X-Original-URL: /admin/users',
  'X-Rewrite-URL: /admin/users',
  'X-Forwarded-Host: evil.test',
  'X-Forwarded-Proto: https',
];
const OVERRIDES = ['X-HTTP-Method-Override: DELETE', 'X-Method-Override: DELETE', 'X-HTTP-Method: DELETE'];

function get(port: number, headers: string[], host = 'api.test'): Promise<import('../helpers/gateway.js').RawResponse> {
  return rawRequest(port, `GET /h HTTP/1.1\r\nHost: ${host}\r\n${headers.map((h) => h + '\r\n').join('')}\r\n`, 3000, { untilResponse: true });
}

let upstream: EchoUpstream;
let gw: RunningGateway;
let trusting: RunningGateway;

t.before(async () => {
  upstream = await startEchoUpstream();
  gw = await startGateway(basicConfig(await freePort(), upstream.port));
  trusting = await startGateway({
    ...basicConfig(await freePort(), upstream.port),
    trustedProxies: ['127.0.0.1'],
    clientHeaders: { underscores: 'reject', methodOverride: 'keep' },
  });
});
t.teardown(async () => {
  await gw?.stop();
  await trusting?.stop();
  await upstream?.close();
});

t.test('header names with underscores are dropped by default', async (t) => {
  upstream.seen.length = 0;
  const res = await get(gw.port, ['X_Consumer_Id: admin', 'X_Authenticated_Subject: root', 'X-Plain: kept']);
  t.equal(res.status, 200);
  const seen = upstream.seen[0].headers;
  t.equal(seen['x_consumer_id'], undefined, 'X_Consumer_Id dropped');
  t.equal(seen['x_authenticated_subject'], undefined, 'X_Authenticated_Subject dropped');
  t.equal(seen['x-plain'], 'kept', 'an ordinary header still passes');
});

t.test('underscores: reject answers 400 and forwards nothing', async (t) => {
  upstream.seen.length = 0;
  const res = await get(trusting.port, ['X_Consumer_Id: admin']);
  t.equal(res.status, 400);
  t.match(res.body, /ZTG_BAD_HEADER/);
  t.equal(upstream.seen.length, 0);
});

t.test('client-address and URL-override headers are stripped from an untrusted peer', async (t) => {
  upstream.seen.length = 0;
  const res = await get(gw.port, SPOOFED);
  t.equal(res.status, 200);
  const seen = upstream.seen[0].headers;
  for (const line of SPOOFED) {
    const name = line.slice(0, line.indexOf(':')).toLowerCase();
    if (name === 'x-forwarded-host') t.equal(seen[name], 'api.test', 'X-Forwarded-Host is the gateway\'s own');
    else if (name === 'x-forwarded-proto') t.equal(seen[name], 'http', 'X-Forwarded-Proto is the gateway\'s own');
    else t.equal(seen[name], undefined, `${name} stripped`);
  }
});

t.test('a trusted proxy\'s client-address headers pass', async (t) => {
  upstream.seen.length = 0;
  const res = await get(trusting.port, SPOOFED);
  t.equal(res.status, 200);
  const seen = upstream.seen[0].headers;
  t.equal(seen['x-real-ip'], '10.9.9.9');
  t.equal(seen['x-forwarded-prefix'], '/admin');
  t.equal(seen['x-forwarded-host'], 'evil.test');
  t.equal(seen['x-forwarded-proto'], 'https');
});

t.test('method-override headers: stripped by default, kept with methodOverride: keep', async (t) => {
  upstream.seen.length = 0;
  t.equal((await get(gw.port, OVERRIDES)).status, 200);
  t.equal((await get(trusting.port, OVERRIDES)).status, 200);
  const [stripped, kept] = upstream.seen.map((s) => s.headers);
  for (const name of ['x-http-method-override', 'x-method-override', 'x-http-method']) {
    t.equal(stripped[name], undefined, `${name} stripped`);
    t.equal(kept[name], 'DELETE', `${name} kept`);
  }
});

t.test('a Host with userinfo is refused 400', async (t) => {
  upstream.seen.length = 0;
  for (const host of ['x@secure.test', 'user:pw@secure.test', 'a b']) {
    const res = await get(gw.port, [], host);
    t.equal(res.status, 400, host);
    t.match(res.body, /ZTG_BAD_HEADER/);
  }
  t.equal(upstream.seen.length, 0, 'nothing forwarded');
  await gw.waitForLog((l) => l.reason === 'userinfo in Host');
  t.equal((await get(gw.port, [], '[::1]:8080')).status, 200, 'an IPv6 literal with a port is a Host');
});
