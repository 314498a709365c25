/**
 * The HTTP edge where uWS's parser decides before the gateway's handler runs:
 * pipelined requests, bare CR, chunk-size leniencies, bytes >= 0x80 around
 * header values, absolute-form targets. What ztgate fixes is asserted; what
 * uWS 6.0.1 makes impossible to fix from the handler is pinned (README
 * "Where uWS decides"), so each of these fails the day uWS changes.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { basicConfig, freePort, rawRequest, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const latin1 = (s: string) => Buffer.from(s, 'latin1');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `bytes` and collects everything until close or `quietMs` without bytes; says whether the gateway closed. */
function exchange(port: number, bytes: Buffer, quietMs: number): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let timer = setTimeout(() => done(false), quietMs);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed });
    };
    socket.on('data', (c) => {
      data += c.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => done(false), quietMs);
    });
    socket.on('end', () => done(true));
    socket.on('error', () => done(true));
    socket.write(bytes);
  });
}

let upstream: EchoUpstream;
let gw: RunningGateway;
const paths = () => upstream.seen.map((s) => s.url);

t.before(async () => {
  upstream = await startEchoUpstream((req, res, body) => {
    const out = JSON.stringify({ url: req.url, host: req.headers['x-forwarded-host'], te: req.headers['transfer-encoding'] ?? null, sha: sha(body) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
  gw = await startGateway({
    ...basicConfig(await freePort(), upstream.port),
    routes: [
      { name: 'json', match: { path: '/json' }, upstream: 'app', public: true, stages: [{ type: 'validate', schema: { type: 'object' } }] },
      { name: 'small', match: { path: '/small' }, upstream: 'app', public: true, maxBodyBytes: 1024 },
      { name: 'all', match: { path: '/*' }, upstream: 'app', public: true },
    ],
  });
});
t.teardown(async () => {
  await gw?.stop();
  await upstream?.close();
});

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

t.test('two GETs in one segment: uWS closes the connection, and neither reaches the upstream', async (t) => {
  for (let i = 0; i < 3; i++) {
    // A kept-alive upstream connection is idle: a forward would be written at once.
    t.equal((await rawRequest(gw.port, GET('/warm'), 2000, { untilResponse: true })).status, 200);
    const r = await exchange(gw.port, latin1(GET(`/first${i}`) + GET(`/second${i}`)), 1500);
    t.ok(r.closed, 'uWS closed the connection');
    t.equal(r.data, '', 'with no answer to either (uWS refuses a request behind an unanswered one)');
  }
  await pause(300);
  t.same(paths().filter((p) => !p.startsWith('/warm')), [], 'no request whose answer was lost was forwarded');
  await gw.waitForLog((l) => l.msg === 'access' && l.status === 0 && l.method === 'GET');
});

t.test('a pipeline whose first request is answered at once is served in order', async (t) => {
  // Refused in the handler itself (a Host with userinfo): uWS parses on and the second is served.
  const r = await exchange(gw.port, latin1(`GET /x HTTP/1.1\r\nHost: x@a\r\n\r\n` + GET('/after-refusal')), 1500);
  t.match(r.data, /^HTTP\/1\.1 400 [\s\S]*HTTP\/1\.1 200 /, '400 then 200, in order');
  // Refused by a stage that answers before uWS parses on (the stages run at once; only forwarding waits).
  const s = await exchange(gw.port, latin1('POST /json HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]' + GET('/after-stage')), 1500);
  t.match(s.data, /^HTTP\/1\.1 400 [\s\S]*HTTP\/1\.1 200 /, 'a stage\'s 400 then 200, in order');
});

t.test('bare CR in a header value: uWS never hands the request over; nothing is forwarded', async (t) => {
  const before = upstream.seen.length;
  const r = await exchange(gw.port, latin1('GET /cr HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n'), 1000);
  t.equal(r.data, '', 'no answer (uWS waits for more bytes until its idle timeout of about 10 s)');
  t.equal(upstream.seen.length, before, 'the upstream saw nothing');
});

t.test('chunk-size leniencies decode to one clean body upstream', async (t) => {
  const head = 'POST /chunks HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
  const cases = [
    ['bare CR in a size line read as a size', '5\r\r;ABCD\r\nhello\r\n0\r\n\r\n'],
    ['an empty line before the last chunk skipped', '5\r\nhello\r\n\r\n0\r\n\r\n'],
  ] as const;
  for (const [name, body] of cases) {
    const r = await rawRequest(gw.port, latin1(head + body), 2000, { untilResponse: true });
    t.equal(r.status, 200, `${name}: accepted by uWS`);
    t.equal(JSON.parse(r.body).sha, sha(Buffer.from('hello')), `${name}: the upstream got "hello", re-chunked`);
  }
});

t.test('bytes >= 0x80 around a header value are trimmed by uWS before the handler sees it', async (t) => {
  for (const te of ['\xffchunked', 'chunked\xa0', '\x85chunked']) {
    const r = await rawRequest(gw.port, latin1(`POST /te HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`), 2000, { untilResponse: true });
    t.equal(r.status, 200, `${JSON.stringify(te)}: taken as chunked by uWS`);
    const seen = JSON.parse(r.body);
    t.equal(seen.te, 'chunked', 'the upstream gets the gateway\'s own framing');
    t.equal(seen.sha, sha(Buffer.from('hello')));
  }
  const r = await rawRequest(gw.port, latin1('GET /host HTTP/1.1\r\nHost: \xffa\xff\r\n\r\n'), 2000, { untilResponse: true });
  t.equal(r.status, 200);
  t.equal(JSON.parse(r.body).host, 'a', 'Host "\\xffa\\xff" arrives as "a"');
});

t.test('absolute-form request targets get uWS\'s 505 and never reach the upstream', async (t) => {
  const before = upstream.seen.length;
  const r = await exchange(gw.port, latin1('GET http://a/abs HTTP/1.1\r\nHost: a\r\n\r\n'), 1000);
  t.match(r.data, /^HTTP\/1\.1 505 /);
  t.ok(r.closed);
  t.equal(upstream.seen.length, before);
});

t.test('98 header lines pass; a 99th gets uWS\'s 431', async (t) => {
  const lines = (n: number) => Array.from({ length: n - 1 }, (_, i) => `X-H${i}: v\r\n`).join('');
  const ok = await rawRequest(gw.port, `GET /many HTTP/1.1\r\nHost: a\r\n${lines(98)}\r\n`, 2000, { untilResponse: true });
  t.equal(ok.status, 200, 'Host and 97 more');
  const over = await exchange(gw.port, latin1(`GET /many HTTP/1.1\r\nHost: a\r\n${lines(99)}\r\n`), 1000);
  t.match(over.data, /^HTTP\/1\.1 431 /);
  t.ok(over.closed);
});

t.test('a large body in the same read as its head reaches a stage that reads it whole', async (t) => {
  // More than the relay holds before pausing the client (256 KiB), written at once.
  const body = JSON.stringify({ pad: 'x'.repeat(400 * 1024) });
  const r = await rawRequest(gw.port, `POST /json HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 5000, { untilResponse: true });
  t.equal(r.status, 200);
  t.equal(JSON.parse(r.body).sha, sha(Buffer.from(body)), 'the upstream got the whole body');
});

t.test('a chunked body over the limit in the first read: refused, and never forwarded', async (t) => {
  const before = upstream.seen.length;
  const chunk = 'y'.repeat(4096);
  const r = await exchange(gw.port, latin1(`POST /small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n${chunk}\r\n0\r\n\r\n`), 1500);
  t.match(r.data, /^HTTP\/1\.1 413 /);
  await pause(200);
  t.equal(upstream.seen.length, before, 'the upstream saw nothing');
});

t.test('the gateway still serves', async (t) => {
  t.equal((await rawRequest(gw.port, GET('/ok'), 2000, { untilResponse: true })).status, 200);
});
