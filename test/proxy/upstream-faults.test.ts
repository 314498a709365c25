/**
 * How the gateway answers when the upstream misbehaves, and that it carries
 * well-formed but unusual upstream answers through intact.
 *
 * One real gateway process serves every case; each case has its own upstream
 * (a scripted raw TCP server, or a closed port) under its own route prefix, so
 * connection reuse in one case cannot leak into another.
 */
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { freePort, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

// ---------------------------------------------------------------------------
// Helpers local to this file
// ---------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface UpRequest {
  method: string;
  target: string;
  headers: Record<string, string>;
  /** 1-based index of the upstream connection this request came on. */
  conn: number;
  /** 1-based index of the request on its connection. */
  seq: number;
  /** Resolves with the request body (Content-Length framing only). */
  body: Promise<Buffer>;
}

interface Scripted {
  port: number;
  readonly connections: number;
  readonly requests: UpRequest[];
  /** Connections closed so far (by either side). */
  readonly closed: number;
  /** Resolves when connection `conn` (1-based) has closed. */
  closedConn(conn: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A raw TCP upstream that parses each request head on a connection (keep-alive
 * aware, Content-Length bodies skipped) and lets `script` answer by hand.
 */
async function scriptedUpstream(script: (req: UpRequest, socket: Socket) => void): Promise<Scripted> {
  const requests: UpRequest[] = [];
  const sockets = new Set<Socket>();
  const closedWaiters = new Map<number, () => void>();
  const closedSet = new Set<number>();
  let connections = 0;
  const server = createNetServer((socket) => {
    const conn = ++connections;
    sockets.add(socket);
    let buf: Buffer = Buffer.alloc(0);
    let seq = 0;
    let bodyLeft = 0;
    let bodyChunks: Buffer[] = [];
    let bodyDone: ((b: Buffer) => void) | null = null;
    const pump = () => {
      for (;;) {
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, buf.length);
          if (take === 0) return;
          bodyChunks.push(buf.subarray(0, take));
          buf = buf.subarray(take);
          bodyLeft -= take;
          if (bodyLeft > 0) return;
          bodyDone!(Buffer.concat(bodyChunks));
          bodyChunks = [];
          bodyDone = null;
          continue;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        const [requestLine, ...lines] = head.split('\r\n');
        const [method, target] = requestLine.split(' ');
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        bodyLeft = Number(headers['content-length'] ?? 0);
        const body =
          bodyLeft > 0
            ? new Promise<Buffer>((resolve) => {
                bodyDone = resolve;
              })
            : Promise.resolve(Buffer.alloc(0));
        const req: UpRequest = { method, target, headers, conn, seq: ++seq, body };
        requests.push(req);
        script(req, socket);
      }
    };
    socket.on('data', (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      pump();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      closedSet.add(conn);
      closedWaiters.get(conn)?.();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    get connections() {
      return connections;
    },
    requests,
    get closed() {
      return closedSet.size;
    },
    closedConn: (conn) =>
      closedSet.has(conn) ? Promise.resolve() : new Promise<void>((resolve) => closedWaiters.set(conn, resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The whole message arrived as framed (res.complete, no error). */
  complete: boolean;
  error: string | null;
  ms: number;
}

/** One request on its own client connection (node:http, no agent), body collected. */
function send(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<ClientResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let error: string | null = null;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => {
        error = e.message;
      });
      res.on('close', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks),
          complete: res.complete && error === null,
          error,
          ms: performance.now() - started,
        }),
      );
    });
    req.end(options.body);
  });
}

interface RawMessage {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A keep-alive raw client: writes bytes, reads exactly one response per call
 * following HTTP framing (no body for HEAD/204/304, Content-Length, chunked),
 * so a stray byte after a response breaks the next one.
 */
class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  closed = false;
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiter?.();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    this.socket.on('error', () => {});
  }

  private async need(pred: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.closed) throw new Error(`connection closed; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  /** Bytes received and not yet consumed by read(). */
  get pending(): number {
    return this.buf.length;
  }

  async read(requestMethod = 'GET', timeoutMs = 5000): Promise<RawMessage> {
    await this.need(() => this.buf.indexOf('\r\n\r\n') !== -1, timeoutMs);
    const end = this.buf.indexOf('\r\n\r\n');
    const head = this.buf.subarray(0, end).toString('latin1');
    this.buf = this.buf.subarray(end + 4);
    const lines = head.split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    if (requestMethod === 'HEAD' || status === 204 || status === 304 || status < 200) {
      return { status, head, headers, body: Buffer.alloc(0) };
    }
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        await this.need(() => this.buf.indexOf('\r\n') !== -1, timeoutMs);
        const lineEnd = this.buf.indexOf('\r\n');
        const size = parseInt(this.buf.subarray(0, lineEnd).toString('latin1'), 16);
        if (size === 0) {
          await this.need(() => this.buf.indexOf('\r\n\r\n', lineEnd) !== -1 || this.buf.subarray(lineEnd, lineEnd + 4).toString() === '\r\n\r\n', timeoutMs);
          const trailerEnd = this.buf.indexOf('\r\n\r\n', lineEnd);
          this.buf = this.buf.subarray(trailerEnd + 4);
          return { status, head, headers, body: Buffer.concat(parts) };
        }
        await this.need(() => this.buf.length >= lineEnd + 2 + size + 2, timeoutMs);
        parts.push(Buffer.from(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size)));
        this.buf = this.buf.subarray(lineEnd + 2 + size + 2);
      }
    }
    const length = Number(headers['content-length'] ?? 0);
    await this.need(() => this.buf.length >= length, timeoutMs);
    const body = Buffer.from(this.buf.subarray(0, length));
    this.buf = this.buf.subarray(length);
    return { status, head, headers, body };
  }

  write(bytes: string): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

interface Problem {
  type: string;
  code: string;
  status: number;
  requestId: string;
}

/** The answer is an RFC 9457 problem with `code`, carrying the request id, and the gateway logged that code for that id. */
async function assertProblem(t: Test, gw: RunningGateway, res: ClientResponse, status: number, code: string): Promise<Problem> {
  t.equal(res.status, status, `status ${status}`);
  t.match(String(res.headers['content-type']), /^application\/problem\+json/, 'problem content type');
  const id = res.headers['x-request-id'];
  t.match(id, /^[0-9a-f-]{36}$/, 'request id header');
  let problem: Problem = { type: '', code: '', status: 0, requestId: '' };
  try {
    problem = JSON.parse(res.body.toString()) as Problem;
  } catch {
    t.fail(`problem body is not JSON: ${res.body.toString().slice(0, 200)}`);
  }
  t.equal(problem.code, code, `code ${code}`);
  t.equal(problem.status, status, 'status in the problem body');
  t.equal(problem.requestId, id, 'request id in the problem body');
  const line = await gw.waitForLog((l) => l.reqId === id && l.code === code, 5000);
  t.equal(line.status, status, 'log line carries the status');
  return problem;
}

// ---------------------------------------------------------------------------
// Upstreams, one per case, and the gateway
// ---------------------------------------------------------------------------

const respond = (socket: Socket, bytes: string | Buffer) => socket.write(bytes);
const ok = (body = 'ok', extra = '') => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

const GARBAGE: Record<string, string> = {
  'not-http': 'HELLO\r\n\r\n',
  'double-length': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
  'te-and-cl': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'nul-in-header': 'HTTP/1.1 200 OK\r\nX-Evil: a\0b\r\nContent-Length: 2\r\n\r\nok',
  'huge-head': `HTTP/1.1 200 OK\r\n${Array.from({ length: 70 }, (_, i) => `X-Filler-${i}: ${'f'.repeat(1000)}\r\n`).join('')}Content-Length: 2\r\n\r\nok`,
};

const CLOSE_DELIMITED_BODY = Buffer.alloc(300 * 1024);
for (let i = 0; i < CLOSE_DELIMITED_BODY.length; i++) CLOSE_DELIMITED_BODY[i] = (i * 7 + (i >> 10)) & 0xff;

const up = {
  resetBefore: await scriptedUpstream((_req, s) => s.resetAndDestroy()),
  closeBefore: await scriptedUpstream((_req, s) => s.end()),
  resetMidBody: await scriptedUpstream((req, s) => {
    if (req.target.endsWith('/healthy')) return void respond(s, ok());
    respond(s, `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
    setTimeout(() => (req.target.endsWith('/fin') ? s.end() : s.resetAndDestroy()), 100);
  }),
  chunkedCut: await scriptedUpstream((_req, s) => {
    respond(s, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    setTimeout(() => s.end(), 100);
  }),
  garbage: await scriptedUpstream((req, s) => {
    const name = req.target.split('/').pop()!;
    if (name === 'healthy') return void respond(s, ok());
    respond(s, GARBAGE[name]);
    s.end();
  }),
  slowHead: await scriptedUpstream(() => {
    /* never answers */
  }),
  stallBody: await scriptedUpstream((_req, s) => {
    respond(s, `HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'y'.repeat(2000)}`);
  }),
  trailers: await scriptedUpstream((_req, s) => {
    respond(s, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nContent-Type: text/plain\r\n\r\n');
    // Chunks and the trailer section arrive in separate packets too.
    setTimeout(() => respond(s, '5\r\nhello\r\n6;ext=1\r\n world\r\n'), 20);
    setTimeout(() => respond(s, '0\r\nX-Checksum: abc123\r\nX-Other: 1\r\n\r\n'), 40);
  }),
  noBody: await scriptedUpstream((req, s) => {
    if (req.target.endsWith('/204')) respond(s, 'HTTP/1.1 204 No Content\r\nX-Kind: no-content\r\n\r\n');
    // A 304 may announce the representation's length; no body follows it.
    else if (req.target.endsWith('/304')) respond(s, 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n');
    else if (req.target.endsWith('/empty')) respond(s, 'HTTP/1.1 200 OK\r\nX-Kind: empty\r\nContent-Length: 0\r\n\r\n');
    else respond(s, ok('after'));
  }),
  head: await scriptedUpstream((req, s) => {
    if (req.method === 'HEAD') respond(s, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12345\r\n\r\n');
    else respond(s, ok('after-head'));
  }),
  continue: await scriptedUpstream((_req, s) => {
    respond(s, 'HTTP/1.1 100 Continue\r\n\r\n');
    setTimeout(() => respond(s, 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'), 20);
    setTimeout(() => respond(s, ok('final')), 40);
  }),
  closeDelimited: await scriptedUpstream((_req, s) => {
    respond(s, 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n');
    // In pieces, then FIN marks the end.
    let off = 0;
    const step = () => {
      if (off >= CLOSE_DELIMITED_BODY.length) return void s.end();
      s.write(CLOSE_DELIMITED_BODY.subarray(off, off + 50_000));
      off += 50_000;
      setTimeout(step, 5);
    };
    step();
  }),
  keepAlive: await scriptedUpstream((req, s) => respond(s, ok(`n=${req.seq}`))),
  idleClose: await scriptedUpstream((req, s) => {
    respond(s, ok(`conn=${req.conn}`));
    setTimeout(() => s.end(), 100); // closes its idle keep-alive socket soon after answering
  }),
  // Closes a reused keep-alive socket just as the second request arrives on it (the classic race).
  staleRace: await scriptedUpstream((req, s) => {
    if (req.seq >= 2) return void s.end();
    respond(s, ok(`conn=${req.conn}`));
  }),
  slowPool: await scriptedUpstream((req, s) => {
    setTimeout(() => respond(s, ok(`seq=${req.seq}`)), 700);
  }),
  // Behind a pool whose idle limit (300 ms) is shorter than its answers take (600 ms).
  poolIdle: await scriptedUpstream((req, s) => {
    const answer = () => respond(s, ok(`conn=${req.conn} seq=${req.seq}`));
    if (req.target.endsWith('/slow')) setTimeout(answer, 600);
    else answer();
  }),
};
const echo = await startEchoUpstream();
const refusedPort = await freePort();

const upstreamPorts: Record<string, number> = { refused: refusedPort, echo: echo.port };
for (const [name, u] of Object.entries(up)) upstreamPorts[name] = u.port;

const gwPort = await freePort();
const timeouts = { connectMs: 1000, firstByteMs: 800, idleMs: 800 };
const gw = await startGateway({
  listeners: [{ name: 'main', host: '127.0.0.1', port: gwPort, segment: 'external' }],
  upstreams: Object.entries(upstreamPorts).map(([name, port]) => ({
    name,
    targets: [{ url: `http://127.0.0.1:${port}` }],
    timeouts: name === 'slowPool' || name === 'poolIdle' ? { ...timeouts, connectMs: 3000, firstByteMs: 3000 } : timeouts,
    ...(name === 'slowPool' ? { pool: { maxConnections: 1, maxQueued: 1 } } : {}),
    ...(name === 'poolIdle' ? { pool: { maxConnections: 1, idleTimeoutMs: 300 } } : {}),
  })),
  routes: Object.keys(upstreamPorts).map((name) => ({ name, match: { path: `/${name}/*` }, upstream: name, public: true })),
});

t.teardown(async () => {
  await gw.stop();
  await echo.close();
  for (const u of Object.values(up)) await u.close();
});

/** uWS prints this when a response is written outside cork (each write then becomes its own syscall). */
const CORK_WARNING = /writes must be made from within a corked callback/;

/** The gateway still answers through a healthy upstream. */
async function stillServing(t: Test): Promise<void> {
  const res = await send(gw.port, '/echo/still-alive');
  t.equal(res.status, 200, 'gateway keeps serving afterwards');
  t.equal((JSON.parse(res.body.toString()) as { url: string }).url, '/echo/still-alive');
}

// ---------------------------------------------------------------------------
// Failures before a response: a problem answer
// ---------------------------------------------------------------------------

t.test('upstream refusing connections → 502 ZTG_UPSTREAM_CONNECT', async (t) => {
  const res = await send(gw.port, '/refused/x');
  await assertProblem(t, gw, res, 502, 'ZTG_UPSTREAM_CONNECT');
  t.ok(res.ms < 900, `answered at once, not after a timeout (${res.ms.toFixed(0)} ms)`);
  await stillServing(t);
});

t.test('upstream accepting, reading, then resetting before answering → 502', async (t) => {
  const res = await send(gw.port, '/resetBefore/x');
  await assertProblem(t, gw, res, 502, 'ZTG_UPSTREAM_RESET');
  t.equal(up.resetBefore.requests.length, 1, 'not retried: the connection was fresh');
  const res2 = await send(gw.port, '/closeBefore/x');
  await assertProblem(t, gw, res2, 502, 'ZTG_UPSTREAM_RESET');
  t.equal(up.closeBefore.requests.length, 1, 'a FIN before answering is not retried on a fresh connection either');
  await stillServing(t);
});

// ---------------------------------------------------------------------------
// Failures after the head left: a cut connection, never a complete-looking body
// ---------------------------------------------------------------------------

t.test('upstream resetting mid-body of a Content-Length response → truncated, closed client connection', async (t) => {
  for (const how of ['rst', 'fin']) {
    const res = await send(gw.port, `/resetMidBody/${how}`);
    t.equal(res.status, 200, `${how}: the head had already been forwarded`);
    t.equal(res.headers['content-length'], '100000', `${how}: the announced length is kept`);
    t.ok(res.body.length >= 1000 && res.body.length < 100000, `${how}: body cut short (${res.body.length} bytes)`);
    t.notOk(res.complete, `${how}: the client can tell the response is incomplete`);
    const id = res.headers['x-request-id'];
    const line = await gw.waitForLog((l) => l.reqId === id && l.msg === 'response cut short');
    t.equal(line.code, 'ZTG_UPSTREAM_RESET', `${how}: logged with its code`);
  }
  const healthy = await send(gw.port, '/resetMidBody/healthy');
  t.equal(healthy.body.toString(), 'ok', 'the same upstream serves again on a fresh connection');
  await stillServing(t);
});

t.test('upstream closing mid-body of a chunked response → no terminating chunk reaches the client', async (t) => {
  const client = new RawClient(gw.port);
  t.teardown(() => client.destroy());
  client.write('GET /chunkedCut/x HTTP/1.1\r\nHost: t\r\n\r\n');
  await t.rejects(client.read(), /connection closed/, 'connection closed before the last chunk');
  t.ok(client.closed);
  const res = await send(gw.port, '/chunkedCut/y');
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'hello', 'the bytes that did arrive are forwarded');
  t.notOk(res.complete, 'but the message is not complete');
  const line = await gw.waitForLog((l) => l.reqId === res.headers['x-request-id'] && l.msg === 'response cut short');
  t.equal(line.code, 'ZTG_UPSTREAM_RESET');
  await stillServing(t);
});

t.test('upstream answering garbage → 502 ZTG_UPSTREAM_BAD_RESPONSE', async (t) => {
  for (const name of Object.keys(GARBAGE)) {
    await t.test(name, async (t) => {
      const res = await send(gw.port, `/garbage/${name}`);
      await assertProblem(t, gw, res, 502, 'ZTG_UPSTREAM_BAD_RESPONSE');
      t.notOk(res.headers['x-evil'], 'nothing of the bad head is forwarded');
      t.notOk(res.headers['x-filler-0'], 'nothing of the bad head is forwarded');
    });
  }
  t.equal(up.garbage.requests.length, Object.keys(GARBAGE).length, 'each sent once, never retried');
  const healthy = await send(gw.port, '/garbage/healthy');
  t.equal(healthy.body.toString(), 'ok', 'the same upstream serves again afterwards');
  await stillServing(t);
});

t.test('upstream answering slowly: no head within firstByteMs → 504 ZTG_UPSTREAM_TIMEOUT', async (t) => {
  const res = await send(gw.port, '/slowHead/x');
  await assertProblem(t, gw, res, 504, 'ZTG_UPSTREAM_TIMEOUT');
  t.ok(res.ms >= 700 && res.ms < 2500, `answered after about firstByteMs = 800 (${res.ms.toFixed(0)} ms)`);
  await up.slowHead.closedConn(1);
  t.pass('the gateway closed the upstream socket it gave up on');
  await stillServing(t);
});

t.test('upstream stalling mid-body beyond idleMs → client connection cut', async (t) => {
  const res = await send(gw.port, '/stallBody/x');
  t.equal(res.status, 200);
  t.equal(res.body.length, 2000, 'what arrived is forwarded');
  t.notOk(res.complete, 'the response is cut, not completed');
  t.ok(res.ms >= 700 && res.ms < 2500, `cut after about idleMs = 800 (${res.ms.toFixed(0)} ms)`);
  const line = await gw.waitForLog((l) => l.reqId === res.headers['x-request-id'] && l.msg === 'response cut short');
  t.equal(line.code, 'ZTG_UPSTREAM_TIMEOUT');
  await up.stallBody.closedConn(1);
  t.pass('upstream socket closed');
  await stillServing(t);
});

// ---------------------------------------------------------------------------
// Unusual but valid answers pass through intact
// ---------------------------------------------------------------------------

t.test('chunked response with trailers: body intact, framing valid, upstream socket reused', async (t) => {
  const client = new RawClient(gw.port);
  t.teardown(() => client.destroy());
  client.write('GET /trailers/1 HTTP/1.1\r\nHost: t\r\n\r\n');
  const first = await client.read();
  t.equal(first.status, 200);
  t.equal(first.headers['transfer-encoding'], 'chunked');
  t.equal(first.body.toString(), 'hello world', 'body intact, chunk extensions stripped');
  t.notOk(first.headers.trailer, 'the Trailer header is not announced (trailers are not forwarded: uWS cannot write them)');
  t.notMatch(first.body.toString(), /X-Checksum/i, 'trailer fields do not leak into the body');
  // The same client connection and the same upstream connection carry the next exchange.
  client.write('GET /trailers/2 HTTP/1.1\r\nHost: t\r\n\r\n');
  const second = await client.read();
  t.equal(second.body.toString(), 'hello world');
  t.equal(up.trailers.connections, 1, 'the trailer section was consumed exactly: upstream socket reused');
  await sleep(100);
  t.equal(client.pending, 0, 'no stray bytes after the responses');
  await stillServing(t);
});

t.test('204 and 304 pass through with no body', async (t) => {
  const client = new RawClient(gw.port);
  t.teardown(() => client.destroy());
  client.write('GET /noBody/204 HTTP/1.1\r\nHost: t\r\n\r\n');
  const r204 = await client.read();
  t.equal(r204.status, 204);
  t.equal(r204.headers['x-kind'], 'no-content', 'end-to-end headers kept');
  t.notOk(r204.headers['transfer-encoding'], '204: no Transfer-Encoding');
  t.notOk(r204.headers['content-length'] && r204.headers['content-length'] !== '0', '204: no non-zero Content-Length');
  client.write('GET /noBody/304 HTTP/1.1\r\nHost: t\r\nIf-None-Match: "v1"\r\n\r\n');
  const r304 = await client.read();
  t.equal(r304.status, 304);
  t.equal(r304.headers.etag, '"v1"');
  t.notOk(r304.headers['transfer-encoding'], '304: no Transfer-Encoding');
  await sleep(150);
  t.equal(client.pending, 0, 'no body bytes after the 204 and 304 heads');
  t.equal(client.closed, false, 'client connection still open');
  // The next exchange on both connections is intact.
  client.write('GET /noBody/after HTTP/1.1\r\nHost: t\r\n\r\n');
  const after = await client.read();
  t.equal(after.status, 200);
  t.equal(after.body.toString(), 'after');
  t.equal(up.noBody.connections, 1, 'the gateway did not wait for a 304 body: upstream socket reused');
  await stillServing(t);
});

t.test('an empty 200 (Content-Length: 0) is framed as empty for the client', async (t) => {
  // Without a length a 200 would be close-delimited: a keep-alive client would hang waiting for its end.
  const res = await Promise.race([send(gw.port, '/noBody/empty'), sleep(3000).then(() => null)]);
  t.ok(res, 'the client sees the end of the response without the connection closing');
  if (!res) return;
  t.equal(res.status, 200);
  t.equal(res.headers['x-kind'], 'empty');
  t.equal(res.headers['content-length'], '0');
  t.ok(res.complete);
  t.ok(res.ms < 1000, `at once (${res.ms.toFixed(0)} ms)`);
});

t.test('HEAD keeps Content-Length and carries no body', async (t) => {
  const client = new RawClient(gw.port);
  t.teardown(() => client.destroy());
  client.write('HEAD /head/x HTTP/1.1\r\nHost: t\r\n\r\n');
  const head = await client.read('HEAD');
  t.equal(head.status, 200);
  t.equal(head.headers['content-length'], '12345', 'the upstream length is announced');
  t.notOk(head.headers['transfer-encoding']);
  await sleep(150);
  t.equal(client.pending, 0, 'no body bytes after a HEAD answer');
  t.equal(client.closed, false, 'client connection still open after a HEAD answer');
  client.write('GET /head/y HTTP/1.1\r\nHost: t\r\n\r\n');
  const after = await client.read();
  t.equal(after.body.toString(), 'after-head');
  t.equal(up.head.connections, 1, 'the gateway did not wait for a HEAD body: upstream socket reused');
  await stillServing(t);
});

t.test('100 Continue and 103 then 200 from the upstream → the client sees only the 200', async (t) => {
  const client = new RawClient(gw.port);
  t.teardown(() => client.destroy());
  client.write('POST /continue/x HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nping');
  const res = await client.read();
  t.equal(res.status, 200, 'the first response the client reads is the final one');
  t.equal(res.body.toString(), 'final');
  t.notOk(res.headers.link, 'the 103 fields do not leak into the final head');
  await sleep(150);
  t.equal(client.pending, 0, 'nothing after the final response');
  t.equal((await up.continue.requests[0].body).toString(), 'ping', 'the upload reached the upstream');
  await stillServing(t);
});

t.test('a close-delimited response (no length, Connection: close) passes intact', async (t) => {
  const res = await send(gw.port, '/closeDelimited/x');
  t.equal(res.status, 200);
  t.ok(res.complete, 'complete (the gateway re-frames it for the client)');
  t.equal(res.body.length, CLOSE_DELIMITED_BODY.length, 'every byte');
  t.equal(createHash('sha256').update(res.body).digest('hex'), createHash('sha256').update(CLOSE_DELIMITED_BODY).digest('hex'), 'same bytes');
  t.ok(
    res.headers['transfer-encoding'] === 'chunked' || res.headers['content-length'] === String(CLOSE_DELIMITED_BODY.length),
    'the client gets a framed body, not a close-delimited one of its own',
  );
  // And the client connection stays usable.
  const client = new RawClient(gw.port);
  t.teardown(() => client.destroy());
  client.write('GET /closeDelimited/y HTTP/1.1\r\nHost: t\r\n\r\n');
  const again = await client.read();
  t.equal(again.body.length, CLOSE_DELIMITED_BODY.length);
  client.write('GET /echo/z HTTP/1.1\r\nHost: t\r\n\r\n');
  t.equal((await client.read()).status, 200, 'client connection reusable after a close-delimited upstream answer');
  t.notMatch(gw.output(), CORK_WARNING, 'the end of a close-delimited body is written inside a uWS cork');
  await stillServing(t);
});

// ---------------------------------------------------------------------------
// Connection reuse
// ---------------------------------------------------------------------------

t.test('keep-alive: 10 sequential requests use one upstream connection', async (t) => {
  for (let i = 1; i <= 10; i++) {
    const res = await send(gw.port, `/keepAlive/${i}`);
    t.equal(res.body.toString(), `n=${i}`, `request ${i} on the same upstream connection`);
  }
  t.equal(up.keepAlive.connections, 1, 'the raw upstream saw one connection');
  t.equal(up.keepAlive.requests.length, 10);
});

t.test('upstream closing its idle keep-alive socket between requests → next request still succeeds', async (t) => {
  const first = await send(gw.port, '/idleClose/1');
  t.equal(first.body.toString(), 'conn=1');
  await up.idleClose.closedConn(1);
  await sleep(100);
  const second = await send(gw.port, '/idleClose/2');
  t.equal(second.status, 200, 'not an error');
  t.equal(second.body.toString(), 'conn=2', 'on a fresh connection');
  t.equal(up.idleClose.requests.length, 2);
});

t.test('a pooled socket busy past the pool idle limit is not closed; an idle one is, after that limit', async (t) => {
  // The idle limit (300 ms) is armed between requests and is shorter than the first-byte limit
  // (3000 ms) of the slow answers that follow on the same socket: neither may cut them.
  for (let i = 1; i <= 2; i++) {
    const res = await send(gw.port, '/poolIdle/slow');
    t.equal(res.status, 200, `slow answer ${i} arrives`);
    t.equal(res.body.toString(), `conn=1 seq=${i}`, `on the first upstream connection, request ${i} there`);
  }
  // Then left idle: the gateway closes it (the upstream sees the close) and opens a new one.
  await up.poolIdle.closedConn(1);
  t.pass('the idle pooled socket was closed by the gateway');
  const next = await send(gw.port, '/poolIdle/fast');
  t.equal(next.body.toString(), 'conn=2 seq=1', 'the next request opens a fresh connection');
  await stillServing(t);
});

t.test('stale pooled socket closed as the request arrives: a GET is replayed on a fresh connection', async (t) => {
  const first = await send(gw.port, '/staleRace/1');
  t.equal(first.body.toString(), 'conn=1');
  const second = await send(gw.port, '/staleRace/2');
  t.equal(second.status, 200, 'the client never sees the stale socket');
  t.equal(second.body.toString(), 'conn=2', 'answered on a fresh connection');
  t.same(
    up.staleRace.requests.map((r) => [r.conn, r.seq, r.target]),
    [
      [1, 1, '/staleRace/1'],
      [1, 2, '/staleRace/2'],
      [2, 1, '/staleRace/2'],
    ],
    'sent on the stale socket, then once more on a new one',
  );
});

t.test('stale pooled socket: a POST is not replayed (non-idempotent)', async (t) => {
  const before = up.staleRace.requests.length;
  // conn 2 is now idle in the pool with one request served; the next request on it is refused by the script.
  const res = await send(gw.port, '/staleRace/post', { method: 'POST', headers: { 'content-length': '0' } });
  await assertProblem(t, gw, res, 502, 'ZTG_UPSTREAM_RESET');
  const posts = up.staleRace.requests.slice(before).filter((r) => r.method === 'POST');
  t.equal(posts.length, 1, 'the POST reached the upstream exactly once');
  await stillServing(t);
});

t.test('pool limit: maxConnections 1, maxQueued 1, slow upstream, 3 concurrent → one 503 at once', async (t) => {
  const pending = [send(gw.port, '/slowPool/1')];
  await sleep(50);
  pending.push(send(gw.port, '/slowPool/2'));
  await sleep(50);
  pending.push(send(gw.port, '/slowPool/3'));
  const results = await Promise.all(pending);
  const unavailable = results.filter((r) => r.status === 503);
  const served = results.filter((r) => r.status === 200);
  t.equal(unavailable.length, 1, 'exactly one refused');
  t.equal(served.length, 2, 'the other two served in turn');
  await assertProblem(t, gw, unavailable[0], 503, 'ZTG_UPSTREAM_UNAVAILABLE');
  t.ok(unavailable[0].ms < 300, `refused quickly (${unavailable[0].ms.toFixed(0)} ms), not after queueing`);
  t.ok(Math.max(...served.map((r) => r.ms)) >= 1300, 'the queued one waited for the single connection');
  t.equal(up.slowPool.connections, 1, 'never more than one upstream connection');
  await stillServing(t);
});

t.test('no response was written outside a uWS cork during the whole run', async (t) => {
  t.notMatch(gw.output(), CORK_WARNING);
});
