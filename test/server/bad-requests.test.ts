import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { basicConfig, freePort, startGateway, type RawResponse, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

/**
 * Hostile and malformed requests against one real gateway process: each is
 * refused with a clear status before anything reaches the upstream, and the
 * gateway keeps serving afterwards.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Sends raw bytes on a fresh connection and resolves as soon as one whole
 * response is in (Content-Length or chunked), or the connection closes.
 * Faster than waiting for quiet, and it still sees a close that follows.
 */
function send(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks).toString('latin1'), closed));
    };
    const timer = setTimeout(() => {
      if (chunks.length > 0) finish();
      else {
        done = true;
        socket.destroy();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }
    }, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (complete(Buffer.concat(chunks).toString('latin1'))) {
        // Give a close that follows the answer a moment to arrive.
        setTimeout(finish, 30);
      }
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => {
      closed = true;
      finish();
    });
    socket.write(bytes);
  });
}

function complete(raw: string): boolean {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = raw.slice(0, end).toLowerCase();
  const cl = /\r\ncontent-length: *([0-9]+)/.exec(head);
  if (cl) return raw.length - end - 4 >= Number(cl[1]);
  if (/\r\ntransfer-encoding: *chunked/.test(head)) return raw.endsWith('0\r\n\r\n');
  return false; // close-delimited: wait for the close
}

function parse(raw: string, closed: boolean): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const lines = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { raw, status: Number(lines[0].split(' ')[1] ?? 0), headers, body: end < 0 ? '' : raw.slice(end + 4), closed };
}

let gw: RunningGateway;
let upstream: EchoUpstream;

t.before(async () => {
  upstream = await startEchoUpstream();
  const port = await freePort();
  const config = basicConfig(port, upstream.port);
  (config.routes as Record<string, unknown>[]).unshift({
    name: 'small',
    match: { path: '/small/*' },
    upstream: 'app',
    public: true,
    maxBodyBytes: 1000,
  });
  gw = await startGateway(config, { processes: 1 });
});

t.teardown(async () => {
  await gw?.stop();
  await upstream?.close();
});

const GOOD = 'GET /good HTTP/1.1\r\nHost: shop.test\r\n\r\n';

/** The problem+json answer of a refusal: shape, id, and nothing internal. */
function checkProblem(t: Tap, res: RawResponse, code: string): Record<string, unknown> {
  t.equal(res.headers['content-type'], 'application/problem+json', 'problem+json body');
  const body = JSON.parse(res.body) as Record<string, unknown>;
  t.equal(body.code, code, `code ${code}`);
  t.equal(body.status, res.status, 'status in the body matches the status line');
  t.match(res.headers['x-request-id'], UUID, 'x-request-id header set');
  t.equal(body.requestId, res.headers['x-request-id'], 'requestId equals the x-request-id header');
  t.same(Object.keys(body).sort(), ['code', 'requestId', 'status', 'title', 'type'], 'no fields beyond the problem document');
  t.notMatch(res.body, /stack|at [A-Za-z]+ \(|\.js:|127\.0\.0\.1|localhost/, 'no internal detail');
  t.notMatch(res.body, String(upstream.port), 'no upstream address');
  return body;
}

type Tap = Test;

interface BadCase {
  name: string;
  bytes: string | Buffer;
  /** Exact status, or 'error' for any 4xx/5xx. */
  status: number | 'error';
  /** Code when the gateway itself writes the answer (problem+json). */
  code?: string;
}

const TE_CL = 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n';
const cases: BadCase[] = [
  // Framing (RFC 9112 §6.3): ambiguity is refused, never guessed.
  { name: 'Transfer-Encoding with Content-Length', bytes: TE_CL, status: 400 },
  { name: 'Content-Length with TE listed after it', bytes: 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  {
    name: 'two Content-Length values that differ',
    bytes: 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    status: 400,
    code: 'ZTG_BAD_FRAMING',
  },
  {
    name: 'two Content-Length values that are equal',
    bytes: 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    status: 400,
    code: 'ZTG_BAD_FRAMING',
  },
  { name: 'non-numeric Content-Length', bytes: 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\nabc', status: 400 },
  { name: 'signed Content-Length', bytes: 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc', status: 400 },
  { name: 'Content-Length list', bytes: 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc', status: 400 },
  {
    name: 'Transfer-Encoding: gzip, chunked',
    bytes: 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    status: 400,
    code: 'ZTG_BAD_FRAMING',
  },
  {
    name: 'Transfer-Encoding: xchunked',
    bytes: 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
    status: 400,
    code: 'ZTG_BAD_FRAMING',
  },
  // Header syntax.
  { name: 'obs-fold continuation line', bytes: 'GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', status: 400 },
  { name: 'bare LF line endings', bytes: 'GET /x HTTP/1.1\nHost: a\n\n', status: 'error' },
  { name: 'NUL in a header value', bytes: 'GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n', status: 400 },
  { name: 'space in a header name', bytes: 'GET /x HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n', status: 400 },
  { name: 'separator in a header name', bytes: 'GET /x HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n', status: 400 },
  { name: 'space before the colon', bytes: 'GET /x HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n', status: 400 },
  { name: 'two Host headers', bytes: 'GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', status: 400 },
  { name: 'no Host header', bytes: 'GET /x HTTP/1.1\r\nX-A: b\r\n\r\n', status: 400 },
  { name: 'headers over the size limit', bytes: `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431 },
  { name: 'URL over 8192 bytes', bytes: `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`, status: 414, code: 'ZTG_URI_TOO_LONG' },
  { name: 'URL over 8192 bytes through the query', bytes: `GET /x?q=${'a'.repeat(8200)} HTTP/1.1\r\nHost: a\r\n\r\n`, status: 414, code: 'ZTG_URI_TOO_LONG' },
  // Method token.
  { name: 'garbage method G@T', bytes: 'G@T /x HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ZTG_BAD_REQUEST' },
  { name: 'lowercase method get', bytes: 'get /x HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ZTG_BAD_REQUEST' },
  { name: 'mixed-case method Delete', bytes: 'Delete /x HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ZTG_BAD_REQUEST' },
];
// Encoded-path tricks: refused, not "fixed".
for (const path of ['/public/..%2Fadmin', '/%2e%2e/admin', '/admin;x', '/admin%00', '/a\\b', '/%2e%2e%2f', '/a/%5cadmin', '/../admin', '/a%zz']) {
  cases.push({ name: `path ${path}`, bytes: `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`, status: 400, code: 'ZTG_BAD_PATH' });
}

t.test('malformed requests are refused and never reach the upstream', async (t) => {
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const before = upstream.seen.length;
      const res = await send(gw.port, c.bytes);
      if (c.status === 'error') {
        t.ok(res.status >= 400 && res.status <= 599, `an error status (got ${res.status})`);
      } else {
        t.equal(res.status, c.status, `status ${c.status}`);
      }
      if (c.code) checkProblem(t, res, c.code);
      // Give a wrongly forwarded request time to land upstream.
      await new Promise((r) => setTimeout(r, 20));
      t.equal(upstream.seen.length, before, 'upstream not reached');
    });
  }
  // Still serving on the same process: no restart happened.
  const res = await send(gw.port, GOOD);
  t.equal(res.status, 200, 'a good request after the bad ones is answered');
  t.equal(upstream.seen.at(-1)?.url, '/good');
  t.notOk(gw.logs().some((l) => l.msg === 'gateway process exited; restarting'), 'the gateway process did not crash');
});

t.test('a refusal that carries a body closes the connection', async (t) => {
  const res = await send(gw.port, 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc');
  t.equal(res.status, 400);
  t.ok(res.closed, 'closed: the unread body must not be parsed as the next request');
  t.equal(res.headers.connection?.toLowerCase(), 'close');
});

t.test('a request smuggled behind a refused one is not served', async (t) => {
  // The bytes after the head are this request's body to anyone who believes the
  // larger Content-Length; they must never be run as a request of their own.
  const inner = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
  for (const lengths of [['0', '0'], ['0', String(inner.length)], [String(inner.length), '0']]) {
    await t.test(`Content-Length ${lengths.join(' and ')}`, async (t) => {
      const before = upstream.seen.length;
      const res = await send(gw.port, `POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: ${lengths[0]}\r\nContent-Length: ${lengths[1]}\r\n\r\n${inner}`);
      await new Promise((r) => setTimeout(r, 100));
      t.ok(res.closed, 'the connection is closed');
      t.ok(res.status === 400 || res.raw === '', `refused or cut (got ${JSON.stringify(res.raw.slice(0, 30))})`);
      t.notMatch(res.raw, /200 OK|smuggled/, 'no answer to the smuggled request');
      t.ok(res.raw.split('HTTP/1.1 ').length - 1 <= 1, 'at most one response on the connection');
      t.equal(upstream.seen.length, before, 'the smuggled request never reached the upstream');
    });
  }
});

t.test('normalized paths are forwarded in their canonical form', async (t) => {
  for (const [path, expected] of [
    ['//admin', '/admin'],
    ['/a/%2e%2e/admin', '/admin'],
    ['/a/./b/../admin?x=%2e', '/a/admin?x=%2e'],
    ['/%61dmin', '/admin'],
  ]) {
    const before = upstream.seen.length;
    const res = await send(gw.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
    t.equal(res.status, 200, `${path} answered`);
    t.equal(upstream.seen.length, before + 1, `${path} forwarded once`);
    t.equal(upstream.seen.at(-1)?.url, expected, `${path} reaches the upstream as ${expected}`);
  }
});

t.test('refusals are logged with their code and request id', async (t) => {
  const res = await send(gw.port, 'GET /%2e%2e/admin HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal(res.status, 400);
  const id = res.headers['x-request-id'];
  const line = await gw.waitForLog((l) => l.reqId === id, 5000);
  t.equal(line.code, 'ZTG_BAD_PATH');
  t.equal(line.status, 400);
  t.ok(typeof line.reason === 'string' && (line.reason as string).length > 0, 'the internal reason goes to the log');
  t.notMatch(res.body, line.reason as string, '...and not to the client');

  const framing = await send(gw.port, 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n');
  const framingLine = await gw.waitForLog((l) => l.reqId === framing.headers['x-request-id'], 5000);
  t.equal(framingLine.code, 'ZTG_BAD_FRAMING');
});

t.test('request id: a valid inbound id is kept, an invalid one replaced', async (t) => {
  const kept = await send(gw.port, 'GET /rid HTTP/1.1\r\nHost: a\r\nX-Request-Id: client-Abc.123:xyz_9\r\n\r\n');
  t.equal(kept.status, 200);
  t.equal(kept.headers['x-request-id'], 'client-Abc.123:xyz_9', 'kept in the response');
  t.equal(upstream.seen.at(-1)?.headers['x-request-id'], 'client-Abc.123:xyz_9', 'kept upstream');

  for (const bad of ['has spaces in it', 'x'.repeat(200), 'evil"quote', '']) {
    const res = await send(gw.port, `GET /rid HTTP/1.1\r\nHost: a\r\nX-Request-Id: ${bad}\r\n\r\n`);
    t.equal(res.status, 200);
    t.match(res.headers['x-request-id'], UUID, `"${bad.slice(0, 20)}" replaced by a fresh id`);
    const seen = upstream.seen.at(-1)!;
    t.equal(seen.headers['x-request-id'], res.headers['x-request-id'], 'the upstream gets the same fresh id');
    t.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'x-request-id').length, 1, 'one x-request-id upstream');
  }

  const refused = await send(gw.port, 'GET /a%00 HTTP/1.1\r\nHost: a\r\nX-Request-Id: trace-me-42\r\n\r\n');
  t.equal(refused.status, 400);
  t.equal(refused.headers['x-request-id'], 'trace-me-42', 'refusals carry the client id too');
  t.equal(JSON.parse(refused.body).requestId, 'trace-me-42');
});

t.test('traceparent: the caller\'s trace is joined with a gateway span; an invalid one restarts the trace', async (t) => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const valid = `00-${traceId}-${callerSpan}-01`;
  const shape = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
  let res = await send(gw.port, `GET /trace HTTP/1.1\r\nHost: a\r\ntraceparent: ${valid}\r\ntracestate: vendor=abc\r\n\r\n`);
  t.equal(res.status, 200);
  let seen = upstream.seen.at(-1)!;
  const joined = shape.exec(String(seen.headers.traceparent));
  t.ok(joined, 'a well-formed traceparent goes upstream');
  t.equal(joined![1], traceId, 'same trace');
  t.not(joined![2], callerSpan, "the gateway's own span is the upstream's parent");
  t.equal(joined![3], '01', 'flags kept');
  t.equal(seen.headers.tracestate, 'vendor=abc', 'tracestate forwarded with it');

  const started = new Set<string>();
  for (const bad of [
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    'garbage',
    `${valid}-extra`,
    '00-4bf92f35-00f067aa0ba902b7-01',
    `00-${'0'.repeat(32)}-${callerSpan}-01`,
    `ff-${traceId}-${callerSpan}-01`,
  ]) {
    res = await send(gw.port, `GET /trace HTTP/1.1\r\nHost: a\r\ntraceparent: ${bad}\r\ntracestate: vendor=abc\r\n\r\n`);
    t.equal(res.status, 200);
    seen = upstream.seen.at(-1)!;
    const fresh = shape.exec(String(seen.headers.traceparent));
    t.ok(fresh, `"${bad.slice(0, 24)}": a new trace starts`);
    t.not(fresh![1], traceId, 'with a new trace id');
    started.add(fresh![1]);
    t.notOk('tracestate' in seen.headers, 'tracestate dropped with the invalid parent');
  }
  t.equal(started.size, 6, 'every new trace has its own id');
});

t.test('hop-by-hop request headers never reach the upstream', async (t) => {
  const res = await send(
    gw.port,
    'GET /hop HTTP/1.1\r\nHost: a\r\n' +
      'Connection: keep-alive, X-Listed\r\n' +
      'X-Listed: secret\r\n' +
      'Keep-Alive: timeout=5\r\n' +
      'TE: trailers\r\n' +
      'Trailer: X-Checksum\r\n' +
      'Upgrade: h2c\r\n' +
      'Proxy-Authorization: Basic dXNlcjpwYXNz\r\n' +
      'Proxy-Connection: keep-alive\r\n' +
      'X-End-To-End: kept\r\n\r\n',
  );
  t.equal(res.status, 200);
  const seen = upstream.seen.at(-1)!;
  t.equal(seen.url, '/hop');
  for (const name of ['keep-alive', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-connection', 'x-listed']) {
    t.notOk(name in seen.headers, `${name} not forwarded`);
  }
  t.equal(seen.headers.connection, 'keep-alive', "only the gateway's own Connection header");
  t.equal(seen.headers['x-end-to-end'], 'kept', 'end-to-end headers still forwarded');
  t.notMatch(seen.rawHeaders.join('\n'), /dXNlcjpwYXNz|X-Listed|h2c/i, 'no trace of the hop-by-hop values');
});

t.test('body limits', async (t) => {
  await t.test('Content-Length over maxBodyBytes: 413 before any upstream contact', async (t) => {
    const before = upstream.seen.length;
    const res = await send(gw.port, 'POST /small/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n' + 'x'.repeat(100));
    t.equal(res.status, 413);
    checkProblem(t, res, 'ZTG_BODY_TOO_LARGE');
    t.ok(res.closed, 'connection closed (the rest of the body is not read)');
    await new Promise((r) => setTimeout(r, 50));
    t.equal(upstream.seen.length, before, 'upstream not reached');
  });

  await t.test('Content-Length at the limit is forwarded', async (t) => {
    const body = 'y'.repeat(1000);
    const res = await send(gw.port, `POST /small/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n${body}`);
    t.equal(res.status, 200);
    t.equal(upstream.seen.at(-1)?.body.toString(), body);
  });

  await t.test('chunked upload over maxBodyBytes: 413 or closed, never a complete body upstream', async (t) => {
    const before = upstream.seen.length;
    const socket = connect(gw.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => (closed = true));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('end', () => (closed = true));
    socket.write('POST /small/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
    // 8 chunks of 256 bytes, a little apart, so the limit is crossed mid-stream.
    for (let i = 0; i < 8 && !socket.destroyed && !closed; i++) {
      socket.write(`100\r\n${'z'.repeat(256)}\r\n`);
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!socket.destroyed && !closed) socket.write('0\r\n\r\n');
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
    socket.destroy();
    const raw = Buffer.concat(chunks).toString('latin1');
    const status = Number(raw.split(' ')[1] ?? 0);
    t.ok(status === 413 || (raw === '' && closed), `413 or a closed connection (got ${JSON.stringify(raw.slice(0, 40))})`);
    if (status === 413) t.match(raw, /ZTG_BODY_TOO_LARGE/);
    t.ok(closed, 'the connection is closed');
    await new Promise((r) => setTimeout(r, 100));
    t.equal(upstream.seen.length, before, 'the upstream never received a complete body');
  });

  await t.test('chunked upload within limits arrives intact', async (t) => {
    const res = await send(gw.port, 'POST /small/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n');
    t.equal(res.status, 200);
    const seen = upstream.seen.at(-1)!;
    t.equal(seen.method, 'POST');
    t.equal(seen.body.toString(), 'helloabc');
  });

  await t.test('a large chunked upload streams through intact', async (t) => {
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 9)) & 0xff;
    const parts: Buffer[] = [Buffer.from('POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n')];
    for (let off = 0; off < payload.length; off += 50_000) {
      const piece = payload.subarray(off, off + 50_000);
      parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    const res = await send(gw.port, Buffer.concat(parts), 10_000);
    t.equal(res.status, 200);
    const seen = upstream.seen.at(-1)!;
    t.equal(seen.url, '/big');
    t.equal(seen.body.length, payload.length, 'every byte arrived');
    t.equal(createHash('sha256').update(seen.body).digest('hex'), createHash('sha256').update(payload).digest('hex'), 'bytes unchanged');
  });
});

t.test('the gateway still serves after everything above', async (t) => {
  const res = await send(gw.port, GOOD);
  t.equal(res.status, 200);
  t.equal(JSON.parse(res.body).url, '/good');
});
