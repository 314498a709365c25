/**
 * `Expect: 100-continue` through a real gateway process.
 *
 * What uWS 6.0.1 does (pinned here): it writes `HTTP/1.1 100 Continue` itself,
 * as soon as it has parsed a head whose Expect value is exactly
 * "100-continue", before the route handler runs; JavaScript can neither hold
 * it back until the stages passed nor send one. So a refused request gets
 * 100 then its final status, and the connection is closed so the body the
 * client may now send is never read. The expectation is this hop's: the
 * gateway does not pass Expect upstream (the upstream would otherwise answer
 * a 100 of its own that the gateway must swallow, or wait for a body it
 * already has).
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import { freePort, rawRequest, startGateway } from '../helpers/gateway.js';

const KEY = 'zk_expect_test_key_0123456789';

/**
 * Sends `head`; waits for an interim 100 (or a final answer, or close); then sends `body` if given and
 * waits for the final answer. Waits are for events, capped generously; nothing is timed.
 */
async function converse(port: number, head: string, body?: string): Promise<{ beforeBody: string; all: string; closed: boolean }> {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  let closed = false;
  let wake: (() => void) | null = null;
  socket.on('data', (c) => {
    data += c.toString('latin1');
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => {});
  const until = (pred: () => boolean) =>
    new Promise<void>((resolve) => {
      const cap = setTimeout(done, 10_000);
      function done() {
        clearTimeout(cap);
        wake = null;
        resolve();
      }
      wake = () => {
        if (closed || pred()) done();
      };
      wake();
    });
  // A final answer is complete when its Content-Length worth of body is in.
  const finalDone = () => {
    const m = /HTTP\/1\.1 [2-5]\d\d [^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(data);
    if (!m) return false;
    const length = /content-length: *(\d+)/i.exec(m[1]);
    return length !== null && data.length >= m.index + m[0].length + Number(length[1]);
  };
  socket.write(head);
  await until(() => data.includes('100 Continue\r\n\r\n') || finalDone());
  const beforeBody = data;
  if (body !== undefined && !closed) {
    socket.write(body);
    await until(finalDone);
  } else if (!closed) {
    // A refusal that closes: wait for the close itself.
    await until(() => false);
  }
  socket.destroy();
  return { beforeBody, all: data, closed };
}

t.test('Expect: 100-continue', async (t) => {
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  let checkContinue = 0;
  const upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      res.end(`got ${body.length}`);
    });
  });
  // An upstream that waits for an expectation to be answered: it must never be asked.
  upstream.on('checkContinue', (req, res) => {
    checkContinue++;
    res.writeContinue();
    upstream.emit('request', req, res);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = await freePort();
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${(upstream.address() as { port: number }).port}` }] }],
    identity: { consumers: [{ name: 'acme', environment: 'prod', apiKeys: [{ sha256: createHash('sha256').update(KEY).digest('hex') }] }] },
    routes: [
      { name: 'open', match: { path: '/open/*' }, upstream: 'app', public: true },
      { name: 'auth', match: { path: '/auth/*' }, upstream: 'app', stages: [{ type: 'identity', environment: 'prod', methods: [{ apiKey: {} }] }] },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await new Promise((r) => upstream.close(r));
    upstream.closeAllConnections();
  });

  await t.test('accepted: 100 Continue, then the body is forwarded, without Expect', async (t) => {
    const r = await converse(port, 'POST /open/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n', 'hello');
    t.match(r.beforeBody, /^HTTP\/1\.1 100 Continue\r\n\r\n$/, 'the client is told to go on before it sends the body');
    t.match(r.all, /HTTP\/1\.1 200 OK[\s\S]*got 5$/, 'final answer after the body');
    const last = seen.at(-1)!;
    t.equal(last.body, 'hello', 'body intact upstream');
    t.equal(last.headers.expect, undefined, 'Expect is not forwarded');
    t.equal(checkContinue, 0, 'the upstream never had to answer an expectation');
  });

  await t.test('chunked body with Expect', async (t) => {
    const r = await converse(port, 'POST /open/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n');
    t.match(r.beforeBody, /^HTTP\/1\.1 100 Continue/);
    t.match(r.all, /got 5$/);
    t.equal(seen.at(-1)!.headers.expect, undefined);
  });

  await t.test('refused by a stage: final status without reading the body, connection closed, upstream untouched', async (t) => {
    const before = seen.length;
    const r = await converse(port, 'POST /auth/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    // uWS 6.0.1 has already written 100 Continue when the handler runs (see the file comment).
    t.match(r.all, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 401 /, '100 (from uWS), then 401 with no body sent');
    t.match(r.all, /application\/problem\+json/);
    t.ok(r.closed, 'the connection is closed: the unread body cannot become a request');
    t.equal(seen.length, before, 'the upstream saw nothing');
    await gw.waitForLog((l) => l.code === 'ZTG_UNAUTHENTICATED');
  });

  await t.test('refused before routing (no route): 404 and closed', async (t) => {
    const r = await converse(port, 'POST /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    t.match(r.all, /HTTP\/1\.1 404 /);
    t.ok(r.closed);
  });

  await t.test('an expectation uWS does not recognise ("100-Continue") gets no 100; a client that sends anyway is served', async (t) => {
    const r = await rawRequest(port, 'POST /open/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\nhello');
    t.notMatch(r.raw, /100 Continue/, 'uWS matches the value case-sensitively (RFC 9110 says case-insensitive): no 100');
    t.equal(r.status, 200);
    t.equal(seen.at(-1)!.headers.expect, undefined, 'not forwarded either');
  });

  await t.test('the gateway still serves', async (t) => {
    const ok = await rawRequest(port, 'POST /auth/x HTTP/1.1\r\nHost: a\r\nX-Api-Key: ' + KEY + '\r\nContent-Length: 2\r\n\r\nok');
    t.equal(ok.status, 200);
  });
});
