/**
 * Streaming both ways with backpressure: large transfers arrive complete and
 * byte-identical while the gateway's memory stays flat, slow clients and
 * slow upstreams are waited for, and a client that goes away frees the
 * upstream socket at once.
 *
 * One real gateway process and one node:http upstream. Payloads are
 * deterministic, so the sha256 a receiver computes is compared with the
 * payload's, computed once. Where "held in the gateway" is measured, it is
 * bytes sent minus bytes received minus what the kernel's socket queues hold
 * (/proc/net/tcp), so socket buffer autotuning cannot pass for backpressure.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { basicConfig, freePort, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { kernelQueued } from '../helpers/kernel-queues.js';

const MiB = 1024 * 1024;
const BIG = 256 * MiB;
/**
 * How much a gateway process's RSS may grow while 256 MiB pass through it. RSS only shrinks
 * slowly once grown, so the bound is on the growth during each transfer: buffering the
 * transfer would add its whole size; streaming adds the upload backlog cap (32 MiB) at most,
 * plus read buffers and heap churn.
 */
const RSS_GROWTH_LIMIT_MB = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Deterministic, non-repeating payload: 1 MiB random block, each chunk stamped with its index,
// so a lost, duplicated or reordered chunk changes the hash.
// ---------------------------------------------------------------------------

const BLOCK = randomBytes(MiB);

function chunkAt(i: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  BLOCK.copy(b, 0, 0, size);
  b.writeUInt32BE(i, 0);
  if (size >= 8) b.writeUInt32BE((i * 2654435761) >>> 0, size - 4);
  return b;
}

const DEFAULT_SIZES = [256 * 1024];

/** Writes `total` payload bytes to `w`, honouring backpressure. `sizes`: write sizes, cycled. */
async function pump(w: Writable, total: number, sent?: { bytes: number }, sizes = DEFAULT_SIZES): Promise<void> {
  let off = 0;
  for (let i = 0; off < total; i++) {
    if (w.destroyed) throw new Error('destination closed');
    const c = chunkAt(i, Math.min(sizes[i % sizes.length], total - off));
    off += c.length;
    if (sent) sent.bytes = off;
    if (!w.write(c)) await Promise.race([once(w, 'drain'), once(w, 'close').then(() => Promise.reject(new Error('destination closed')))]);
  }
}

const payloadHashes = new Map<string, string>();

/**
 * sha256 of the payload pump() writes for (total, sizes), computed once: sha256 runs at a
 * few hundred MB/s here, so each side hashing every transfer would dominate the run.
 */
function payloadSha256(total: number, sizes = DEFAULT_SIZES): string {
  const key = `${total}/${sizes.join(',')}`;
  let digest = payloadHashes.get(key);
  if (digest === undefined) {
    const hash = createHash('sha256');
    let off = 0;
    for (let i = 0; off < total; i++) {
      const c = chunkAt(i, Math.min(sizes[i % sizes.length], total - off));
      hash.update(c);
      off += c.length;
    }
    digest = hash.digest('hex');
    payloadHashes.set(key, digest);
  }
  return digest;
}

// ---------------------------------------------------------------------------
// Gateway memory
// ---------------------------------------------------------------------------

/** The gateway process (the supervisor's only child). */
function gatewayPid(gw: RunningGateway): number {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(gw.proc.pid)], { encoding: 'utf8' });
  const pids = out.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  if (pids.length !== 1) throw new Error(`expected one gateway process under ${gw.proc.pid}, got ${JSON.stringify(pids)}`);
  return pids[0];
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** The kernel's peak RSS of the process (VmHWM) since it was last reset, in MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for ${pid}`);
  return Number(m[1]) / 1024;
}

/**
 * The gateway's peak RSS while `work` runs. The kernel's own high-water mark, reset first (writing
 * 5 to clear_refs), sees every peak however short; a refused upload can be over in tens of
 * milliseconds, between two samples. Where the reset is not allowed, the RSS is sampled every 25 ms
 * instead (`peakTracked` false).
 */
async function withRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; maxMb: number; samples: number; peakTracked: boolean }> {
  let peakTracked = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    peakTracked = false;
  }
  let maxMb = rssMb(pid);
  let samples = 1;
  const timer = setInterval(() => {
    try {
      maxMb = Math.max(maxMb, rssMb(pid));
      samples++;
    } catch {
      /* process gone: the test fails elsewhere */
    }
  }, 25);
  try {
    const result = await work();
    maxMb = Math.max(maxMb, rssMb(pid), peakTracked ? peakRssMb(pid) : 0);
    return { result, maxMb, samples: samples + 1, peakTracked };
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------------------
// Upstream: node:http, hashing both ways, noting when sockets close
// ---------------------------------------------------------------------------

interface Upload {
  bytes: number;
  sha256: string;
  transferEncoding: string | null;
  contentLength: string | null;
}

const upstreamState = {
  /** Hash and size of each download the upstream finished sending, by id. */
  sent: new Map<string, { sha256: string; bytes: number }>(),
  /** Live byte count of downloads in progress, by id. */
  progress: new Map<string, { bytes: number }>(),
  /** When the upstream saw the socket of request `id` close (performance.now()). */
  closedAt: new Map<string, number>(),
  /** When the upstream saw request `id` arrive. */
  arrived: new Map<string, number>(),
  /** Bytes received by /sink requests, by id. */
  sunk: new Map<string, number>(),
  /** The gateway's local port of the upstream connection carrying request `id`. */
  gatewayPort: new Map<string, number>(),
};
const closeWaiters = new Map<string, () => void>();
const arriveWaiters = new Map<string, () => void>();

function upstreamClosed(id: string): Promise<number> {
  const at = upstreamState.closedAt.get(id);
  if (at !== undefined) return Promise.resolve(at);
  return new Promise((resolve) => closeWaiters.set(id, () => resolve(upstreamState.closedAt.get(id)!)));
}

function upstreamArrived(id: string): Promise<void> {
  if (upstreamState.arrived.has(id)) return Promise.resolve();
  return new Promise((resolve) => arriveWaiters.set(id, resolve));
}

const upstream = createServer((req, res) => {
  const url = new URL(req.url!, 'http://upstream');
  const id = url.searchParams.get('id') ?? '';
  upstreamState.arrived.set(id, performance.now());
  upstreamState.gatewayPort.set(id, req.socket.remotePort!);
  arriveWaiters.get(id)?.();
  req.socket.once('close', () => {
    upstreamState.closedAt.set(id, performance.now());
    closeWaiters.get(id)?.();
  });
  switch (url.pathname) {
    case '/upload': {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      req.on('end', () => {
        const body = JSON.stringify({
          bytes,
          sha256: hash.digest('hex'),
          transferEncoding: req.headers['transfer-encoding'] ?? null,
          contentLength: req.headers['content-length'] ?? null,
        } satisfies Upload);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    case '/download': {
      const size = Number(url.searchParams.get('size'));
      const mode = url.searchParams.get('mode');
      const chunked = mode === 'chunked' || mode === 'mixed';
      // mixed: chunked, tiny and large chunks alternating, so one socket read often carries several.
      const sizes = mode === 'mixed' ? [700, 60_000, 5, 90_000, 1300, 33_000] : undefined;
      res.writeHead(200, chunked ? { 'content-type': 'application/octet-stream' } : { 'content-type': 'application/octet-stream', 'content-length': size });
      const progress = { bytes: 0 };
      upstreamState.progress.set(id, progress);
      pump(res, size, progress, sizes).then(
        () => {
          upstreamState.sent.set(id, { sha256: payloadSha256(size, sizes), bytes: size });
          res.end();
        },
        () => {},
      );
      return;
    }
    case '/sink': {
      // Takes an upload and never answers.
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        upstreamState.sunk.set(id, bytes);
      });
      return;
    }
    case '/slow-sink': {
      // Reads about 60 MB/s: 256 KiB, then a 4 ms pause. Answers with the count.
      let bytes = 0;
      let since = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        since += c.length;
        upstreamState.sunk.set(id, bytes);
        if (since >= 256 * 1024) {
          since = 0;
          req.pause();
          setTimeout(() => req.resume(), 4);
        }
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(bytes).length });
        res.end(String(bytes));
      });
      return;
    }
    default:
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
  }
});
upstream.listen(0, '127.0.0.1');
await once(upstream, 'listening');
const upstreamPort = (upstream.address() as { port: number }).port;

// basicConfig's timeouts (idleMs 1500) are kept on purpose: the slow-client case pauses longer than that.
const config = basicConfig(await freePort(), upstreamPort, { maxBodyBytes: 4 * 1024 * MiB });
const gw = await startGateway(config);
const pid = gatewayPid(gw);

t.teardown(async () => {
  await gw.stop();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

// ---------------------------------------------------------------------------
// Client helpers
// ---------------------------------------------------------------------------

function open(path: string, method = 'GET', headers: Record<string, string | number> = {}): ClientRequest {
  return httpRequest({ host: '127.0.0.1', port: gw.port, path, method, headers, agent: false });
}

async function response(req: ClientRequest): Promise<IncomingMessage> {
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  return res;
}

async function readJson<T>(res: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as T;
}

/** Reads the whole body, hashing it; `onData` may pause the stream. */
function consume(res: IncomingMessage, onData?: (received: number) => void): Promise<{ bytes: number; sha256: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    res.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
      onData?.(bytes);
    });
    res.on('error', reject);
    res.on('end', () => resolve({ bytes, sha256: hash.digest('hex'), complete: res.complete }));
  });
}

async function stillServing(t: Test): Promise<void> {
  const res = await response(open('/ping').end() as ClientRequest);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  t.equal(res.statusCode, 200, 'gateway keeps serving');
  t.equal(Buffer.concat(chunks).toString(), 'ok');
}

const baselineMb = rssMb(pid);
t.comment(`gateway pid ${pid}, RSS at start ${baselineMb.toFixed(1)} MB`);

// ---------------------------------------------------------------------------
// Aborts free the upstream side
// ---------------------------------------------------------------------------

t.test('a client aborting mid-download frees the upstream socket', async (t) => {
  const req = open(`/download?id=abort-down&size=${1024 * MiB}`).end() as ClientRequest;
  req.on('error', () => {});
  const res = await response(req);
  t.equal(res.statusCode, 200);
  await new Promise<void>((resolve) => {
    let got = 0;
    res.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= 2 * MiB) resolve();
    });
  });
  const abortedAt = performance.now();
  req.destroy();
  const closedAt = await Promise.race([upstreamClosed('abort-down'), sleep(3000).then(() => Infinity)]);
  t.ok(closedAt - abortedAt < 1000, `upstream socket closed ${(closedAt - abortedAt).toFixed(0)} ms after the client left`);
  t.ok(upstreamState.progress.get('abort-down')!.bytes < 1024 * MiB, 'the upstream was not drained to the end');
  await stillServing(t);
});

t.test('a client aborting mid-upload frees the upstream socket', async (t) => {
  const req = open('/sink?id=abort-up', 'POST', { 'content-type': 'application/octet-stream', 'content-length': 1024 * MiB });
  req.on('error', () => {});
  req.flushHeaders();
  // Send 4 MiB of the announced 1 GiB, wait for it to reach the upstream, then leave.
  void pump(req, 4 * MiB).catch(() => {});
  await upstreamArrived('abort-up');
  for (let i = 0; i < 50 && (upstreamState.sunk.get('abort-up') ?? 0) < MiB; i++) await sleep(20);
  t.ok((upstreamState.sunk.get('abort-up') ?? 0) >= MiB, 'upload was streaming to the upstream');
  const abortedAt = performance.now();
  req.destroy();
  const closedAt = await Promise.race([upstreamClosed('abort-up'), sleep(3000).then(() => Infinity)]);
  t.ok(closedAt - abortedAt < 1000, `upstream socket closed ${(closedAt - abortedAt).toFixed(0)} ms after the client left`);
  await stillServing(t);
});

// ---------------------------------------------------------------------------
// Big transfers: complete, identical, flat memory. Downloads first: RSS never
// shrinks much once the allocator has grown, so a leak in one case would hide
// behind (or be blamed on) the next.
// ---------------------------------------------------------------------------

/*
 * uWebSockets.js as pinned (@based/uws 6.0.1): res.pause() does not stop the
 * socket read loop once a fast client fills its 512 KiB reads, so uploads keep
 * arriving in onData. The gateway bounds what it holds (32 MiB per upload, then
 * 503 ZTG_UPLOAD_BACKLOG); the upload tests accept either outcome and always
 * check the memory bound.
 */

t.test(`a 256 MiB download arrives complete; gateway RSS grows by under ${RSS_GROWTH_LIMIT_MB} MB`, async (t) => {
  const before = rssMb(pid);
  const { result, maxMb, samples, peakTracked } = await withRss(pid, async () => {
    const res = await response(open(`/download?id=down-big&size=${BIG}`).end() as ClientRequest);
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-length'], String(BIG), 'length announced to the client');
    return consume(res);
  });
  t.ok(result.complete, 'complete');
  t.equal(result.bytes, BIG, 'every byte');
  t.equal(result.sha256, upstreamState.sent.get('down-big')?.sha256, 'sha256 of what the client received = what the upstream sent');
  t.ok(peakTracked || samples >= 5, peakTracked ? 'peak RSS from the kernel' : `RSS sampled ${samples} times`);
  t.ok(maxMb - before < RSS_GROWTH_LIMIT_MB, `gateway RSS peaked at ${maxMb.toFixed(1)} MB (${before.toFixed(1)} before; growth limit ${RSS_GROWTH_LIMIT_MB})`);
});

t.test('a slow-reading client (2 s pause mid-download of 64 MiB) still gets everything', async (t) => {
  // Both body framings at once (Content-Length: tryEnd/onWritable; none: chunked write), pauses overlapping.
  const before = rssMb(pid);
  const slowDownload = async (mode: 'length' | 'chunked') => {
    const id = `slow-${mode}`;
    let held = { sent: 0, received: 0, queued: 0 };
    const res = await response(open(`/download?id=${id}&size=${64 * MiB}&mode=${mode}`).end() as ClientRequest);
    const status = res.statusCode;
    const clientPort = res.socket.localPort!;
    let paused = false;
    const result = await consume(res, (received) => {
      if (paused || received < 4 * MiB) return;
      paused = true;
      res.pause();
      setTimeout(() => {
        // Everything stalls: what the upstream sent is either read by the client, in
        // kernel socket queues, or held by the gateway. Only the last must stay small.
        held = {
          sent: upstreamState.progress.get(id)!.bytes,
          received: received + res.readableLength,
          queued: kernelQueued([clientPort, upstreamState.gatewayPort.get(id)!]),
        };
        res.resume();
      }, 2000);
    });
    return { mode, id, status, result, held };
  };
  const { result: outcomes, maxMb } = await withRss(pid, () => Promise.all([slowDownload('length'), slowDownload('chunked')]));
  for (const { mode, id, status, result, held } of outcomes) {
    t.equal(status, 200, `${mode}: 200`);
    // The pause is longer than the upstream's idleMs (1500): the gateway must not blame the upstream for it.
    t.ok(result.complete, `${mode}: complete after the pause`);
    t.equal(result.bytes, 64 * MiB, `${mode}: every byte`);
    t.equal(result.sha256, upstreamState.sent.get(id)?.sha256, `${mode}: same sha256 as sent`);
    const inGateway = held.sent - held.received - held.queued;
    t.ok(held.sent > 0 && held.sent < 64 * MiB, `${mode}: the upstream was held back during the pause (${(held.sent / MiB).toFixed(1)} MiB of 64 sent)`);
    // Allowance: the upstream's chunk in flight (256 KiB), a gateway read held for onWritable, rounding.
    t.ok(
      inGateway < 2 * MiB,
      `${mode}: the gateway itself held ${(inGateway / MiB).toFixed(2)} MiB (sent ${(held.sent / MiB).toFixed(1)}, read ${(held.received / MiB).toFixed(1)}, in kernel queues ${(held.queued / MiB).toFixed(1)})`,
    );
  }
  t.ok(maxMb - before < RSS_GROWTH_LIMIT_MB, `gateway RSS peaked at ${maxMb.toFixed(1)} MB (${before.toFixed(1)} before)`);
  await stillServing(t);
});

t.test('chunked responses with mixed chunk sizes to slow readers keep their framing and bytes', async (t) => {
  // Small and large chunks share upstream reads while the client socket is full: where a
  // corked write that overflows uWS's cork buffer got lost (see CHUNK_PIECE in src/proxy/exchange.ts).
  const SIZE = 10 * MiB;
  const one = async (i: number) => {
    const id = `mixed-${i}`;
    const req = open(`/download?id=${id}&size=${SIZE}&mode=mixed`).end() as ClientRequest;
    const res = await response(req);
    // A framing error is reported on the request: hand it to the response being read.
    req.on('error', (err) => res.destroy(err));
    let first = true;
    try {
      const result = await consume(res, (received) => {
        if (first && received > 2 * MiB) {
          first = false;
          res.pause();
          setTimeout(() => res.resume(), 300 + i * 100);
        } else if (Math.random() < 0.05) {
          res.pause();
          setTimeout(() => res.resume(), Math.random() * 100);
        }
      });
      return { id, ...result, error: null as string | null };
    } catch (err) {
      return { id, bytes: -1, sha256: '', complete: false, error: (err as Error).message };
    }
  };
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => one(i)));
  for (const r of results) {
    t.equal(r.error, null, `${r.id}: valid chunked framing`);
    t.equal(r.bytes, SIZE, `${r.id}: every byte`);
    t.equal(r.sha256, upstreamState.sent.get(r.id)?.sha256, `${r.id}: the bytes the upstream sent`);
  }
  await stillServing(t);
});

for (const framing of ['content-length', 'chunked'] as const) {
  t.test(`a 256 MiB upload (${framing}): complete, or refused at the backlog cap; gateway RSS grows by under ${RSS_GROWTH_LIMIT_MB} MB`, async (t) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
    if (framing === 'content-length') headers['content-length'] = BIG;
    else headers['transfer-encoding'] = 'chunked';
    const before = rssMb(pid);
    const { result, maxMb, samples, peakTracked } = await withRss(pid, async () => {
      const req = open(`/upload?id=up-${framing}`, 'POST', headers);
      req.on('error', () => {}); // a refused upload closes the connection under the client
      const answered = response(req);
      await pump(req, BIG).catch(() => {});
      req.end();
      // A refusal closes the connection; the client may see the reset before the 503 arrives.
      const res = await answered.catch(() => null);
      if (res === null) return { status: 0 };
      if (res.statusCode !== 200) return { status: res.statusCode, body: await readJson<{ code: string }>(res) };
      return { status: 200, upload: await readJson<Upload>(res) };
    });
    // uWS 6.0.1 may ignore pause() for a client that fills its reads: the gateway then refuses the upload at its backlog cap.
    if (result.status === 200) {
      const upload = (result as { upload: Upload }).upload;
      t.equal(upload.bytes, BIG, 'every byte reached the upstream');
      t.equal(upload.sha256, payloadSha256(BIG), 'sha256 of what the upstream received = what the client sent');
      if (framing === 'chunked') t.equal(upload.transferEncoding, 'chunked', 'forwarded chunked');
      else t.equal(upload.contentLength, String(BIG), 'forwarded with its length');
    } else if (result.status === 503) {
      t.equal((result as { body: { code: string } }).body.code, 'ZTG_UPLOAD_BACKLOG', 'refused once the backlog passed the cap');
    } else {
      t.equal(result.status, 0, 'the connection was closed under the client');
      await gw.waitForLog((l) => l.code === 'ZTG_UPLOAD_BACKLOG');
      t.pass('the gateway logged the refusal at the backlog cap');
    }
    t.ok(peakTracked || samples >= 5, peakTracked ? 'peak RSS from the kernel' : `RSS sampled ${samples} times`);
    t.ok(maxMb - before < RSS_GROWTH_LIMIT_MB, `gateway RSS peaked at ${maxMb.toFixed(1)} MB (${before.toFixed(1)} before; growth limit ${RSS_GROWTH_LIMIT_MB})`);
    await stillServing(t);
  });
}

t.test('an upload to a slow upstream: the gateway holds at most its backlog cap', async (t) => {
  // The upstream reads ~60 MB/s; the client could push 96 MiB in well under a second. When the
  // client has handed over its last byte, what is not yet at the upstream is in the client's or
  // the kernel's buffers, or in the gateway: at most its 32 MiB backlog cap (then it refuses).
  const size = 96 * MiB;
  const req = open('/slow-sink?id=slow-up', 'POST', { 'content-type': 'application/octet-stream', 'content-length': size });
  req.on('error', () => {});
  const answered = response(req);
  await pump(req, size).catch(() => {});
  const clientBuffered = req.writableLength + (req.socket?.writableLength ?? 0);
  const atUpstream = upstreamState.sunk.get('slow-up') ?? 0;
  const gatewayPort = upstreamState.gatewayPort.get('slow-up');
  const queued = req.socket?.localPort && gatewayPort ? kernelQueued([req.socket.localPort, gatewayPort]) : 0;
  req.end();
  const inGateway = size - clientBuffered - atUpstream - queued;
  // A refusal closes the connection; the client may see the reset (EPIPE) before the 503 arrives.
  const res = await answered.catch(() => null);
  if (res === null) {
    await gw.waitForLog((l) => l.access === true && l.code === 'ZTG_UPLOAD_BACKLOG' && String(l.path).startsWith('/slow-sink'));
    t.pass('the connection was closed under the client; the gateway logged the refusal at the backlog cap');
    await stillServing(t);
    return;
  }
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  if (res.statusCode === 200) {
    t.equal(Buffer.concat(chunks).toString(), String(size), 'the upstream got every byte');
    t.ok(inGateway < 34 * MiB, `the gateway itself held ${(inGateway / MiB).toFixed(1)} MiB (upstream ${(atUpstream / MiB).toFixed(1)}, kernel queues ${(queued / MiB).toFixed(1)}, client ${(clientBuffered / MiB).toFixed(1)})`);
  } else {
    t.equal(res.statusCode, 503, 'refused at the backlog cap');
    t.equal((JSON.parse(Buffer.concat(chunks).toString()) as { code: string }).code, 'ZTG_UPLOAD_BACKLOG');
  }
  await stillServing(t);
});
