import type { HttpResponse } from 'uWebSockets.js';
import { Errors, GatewayError, type GatewayErrorKind } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { RequestContext, ResponseContext, StageReply } from '../pipeline/stage.js';
import { HeaderList } from '../pipeline/headers.js';
import type { ExchangeHandler, UpstreamConnection } from '../upstream/connection.js';
import type { TargetPool, Waiter } from '../upstream/pool.js';
import type { Attempt, Outcome } from '../upstream/upstream.js';
import type { UpstreamTarget } from '../upstream/upstream-target.js';
import type { ResponseHead } from '../upstream/response-parser.js';
import { buildRequestHead, connectionTokens, DROP_RESPONSE, type BodyFraming } from './forward-headers.js';
import { statusLine, writeProblem } from '../pipeline/respond.js';
import { runDoneStages, runResponseStages } from '../pipeline/run.js';
import type { BlockList } from 'node:net';
import type { RequestRecord } from '../observe/request-record.js';

/** Buffered upload bytes before the client is paused while no upstream socket is ready. */
const MAX_BUFFERED_UPLOAD = 256 * 1024;
/**
 * Upload bytes queued to a slow upstream before the exchange is refused. Only a
 * client that keeps sending while paused gets here (see onClientData).
 */
const MAX_UPLOAD_BACKLOG = 32 * 1024 * 1024;
/** Largest response a buffering (needsResponseBody) stage may hold. */
const MAX_BUFFERED_RESPONSE = 16 * 1024 * 1024;
/**
 * Largest chunked-body piece written at once. uWS (as pinned) drops a write made while
 * corked that does not fit its 16 KiB cork buffer when flushing that buffer meets a full
 * socket; chunked body writes therefore go out in pieces that fit, each in a cork of its own.
 */
const CHUNK_PIECE = 16 * 1024 - 64;
/** Methods a request may be sent again for after a stale pooled socket (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export interface ExchangeHost {
  readonly log: Logger;
  /** Called exactly once, when the client side is finished (answered or gone). */
  done(exchange: Exchange): void;
}

const enum Out {
  /** Nothing written to the client yet. */
  None,
  /** Head written, body streaming with a known length (tryEnd). */
  Length,
  /** Head written, body streaming chunked (write). */
  Chunked,
  /** Collecting the whole response for buffering stages. */
  Buffering,
  /** Head-only response stages are running; body chunks wait. */
  Holding,
  /** Client side finished. */
  Done,
}

/**
 * One client request carried to an upstream and its answer carried back,
 * streaming both ways with backpressure: uWS onData into the upstream socket
 * (pausing the client when the socket is full), upstream data out with
 * tryEnd/write (pausing the socket until uWS is writable again).
 */
export class Exchange implements ExchangeHandler {
  aborted = false;
  /** Its place in the gateway's in-flight list (src/server/in-flight.ts); -1 when not in it. */
  inFlightSlot = -1;
  private out = Out.None;
  private conn: UpstreamConnection | null = null;
  private pool: TargetPool | null = null;
  private waiter: Waiter | undefined;
  private replayed = false;
  /** The try in progress on one target (passive health, circuit, in-flight count). */
  private attempt: Attempt | null = null;
  private attempts = 0;
  /** Targets this request failed on: a retry goes elsewhere. */
  private tried: UpstreamTarget[] | null = null;
  /** The whole upload as handed to a connecting socket: a connect failure may send it again. */
  private sentBody: Buffer[] | null = null;
  private totalTimer: NodeJS.Timeout | null = null;

  // Upload state.
  private readonly framing: BodyFraming;
  private uploadChunks: Buffer[] = [];
  private uploadBuffered = 0;
  private uploadReceived = 0;
  private uploadDone: boolean;
  private streamingUpload = false;
  private clientPaused = false;
  private collecting: (() => void) | null = null;

  // Download state.
  private responseTotal = 0;
  private pending: Buffer | null = null;
  private pendingOffset = 0;
  private upstreamPaused = false;
  private responseChunks: Buffer[] | null = null;
  private responseBytes = 0;
  private responseCtx: ResponseContext | null = null;
  private head: ResponseHead | null = null;
  private completedWhileHolding = false;
  /** Response body bytes handed to uWS. */
  private bytesOut = 0;
  // Upstream timing marks (performance.now(); 0 = did not happen), for the record.
  private forwardAt = 0;
  private sentAt = 0;
  private headAt = 0;
  private upstreamEndAt = 0;
  /** The gateway's own error code when it answered instead of the upstream. */
  private code: string | null = null;
  /** Inside corked(): chunked body bytes and the end wait until the cork is released. */
  private inCork = false;
  private corkedChunks: Buffer[] | null = null;
  private endAfterCork = false;
  status = 0;

  constructor(
    private readonly res: HttpResponse,
    readonly ctx: RequestContext,
    private readonly host: ExchangeHost,
    /** Of the config generation the request started on. */
    private readonly trustedProxies: BlockList | null,
    /** Content-Length of the upload, 'chunked', or 0 when there is none. */
    framing: BodyFraming,
  ) {
    this.framing = framing;
    this.uploadDone = framing === 0;
  }

  /** The client side is finished (answered or gone): the response-stage runner stops. */
  get finished(): boolean {
    return this.out === Out.Done;
  }

  // ---- client upload (uWS onData, registered synchronously by the handler) ----

  onClientData(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.out === Out.Done) return;
    if (chunk.byteLength > 0) {
      this.uploadReceived += chunk.byteLength;
      if (this.uploadReceived > this.ctx.route.maxBodyBytes) {
        this.fail(new GatewayError(Errors.BODY_TOO_LARGE, `body over ${this.ctx.route.maxBodyBytes} bytes while streaming`), true);
        return;
      }
      // uWS neuters the ArrayBuffer when this callback returns: copy.
      const copy = Buffer.copyBytesFrom(new Uint8Array(chunk));
      if (this.streamingUpload && this.conn) {
        if (this.sentBody !== null) {
          if (this.conn.connecting) this.sentBody.push(copy);
          else this.sentBody = null;
        }
        if (!this.writeUpload(this.conn, copy)) this.pauseClient();
        // uWS 6.0.1 keeps delivering onData after res.pause() when a fast client fills its
        // 512 KiB reads (native-bench/NOTES.md); memory stays bounded by refusing the rest.
        if (this.conn.socket.writableLength > MAX_UPLOAD_BACKLOG) {
          this.fail(new GatewayError(Errors.UPLOAD_BACKLOG, `upload backlog over ${MAX_UPLOAD_BACKLOG} bytes: the client ignored backpressure`), true);
        }
      } else {
        this.uploadChunks.push(copy);
        this.uploadBuffered += copy.length;
        // Collecting for a stage is bounded by maxBodyBytes; otherwise hold little.
        if (!this.collecting && this.uploadBuffered > MAX_BUFFERED_UPLOAD) this.pauseClient();
      }
    }
    if (isLast) {
      this.uploadDone = true;
      if (this.streamingUpload && this.conn) this.conn.endBody(this.framing === 'chunked' ? '0\r\n\r\n' : undefined);
      const collecting = this.collecting;
      this.collecting = null;
      collecting?.();
    }
  }

  /** Resolves when the whole upload is in memory (stages that declared needsRequestBody). */
  collectBody(): Promise<Buffer> {
    return new Promise((resolve) => {
      const finish = () => {
        const body = this.uploadChunks.length === 1 ? this.uploadChunks[0] : Buffer.concat(this.uploadChunks, this.uploadBuffered);
        this.uploadChunks = [body];
        resolve(body);
      };
      if (this.uploadDone) finish();
      else this.collecting = finish;
    });
  }

  private writeUpload(conn: UpstreamConnection, chunk: Buffer): boolean {
    if (this.framing !== 'chunked') return conn.writeBody(chunk);
    conn.socket.cork();
    conn.writeBody(`${chunk.length.toString(16)}\r\n`);
    conn.writeBody(chunk);
    const ok = conn.writeBody('\r\n');
    process.nextTick(uncork, conn);
    return ok;
  }

  private pauseClient(): void {
    if (!this.clientPaused) {
      this.clientPaused = true;
      this.res.pause();
    }
  }

  onDrain(): void {
    if (this.clientPaused && this.out !== Out.Done && !this.aborted) {
      this.clientPaused = false;
      this.res.resume();
    }
  }

  // ---- upstream side ----

  /** After the request stages passed: find a connection and send. */
  forward(): void {
    const route = this.ctx.route;
    const totalMs = route.upstream.timeouts.totalMs;
    if (totalMs > 0) {
      this.totalTimer = setTimeout(() => this.fail(new GatewayError(Errors.UPSTREAM_TIMEOUT, `total timeout ${totalMs} ms`), false), totalMs);
    }
    this.forwardAt = performance.now();
    const attempt = route.upstream.begin(this.ctx);
    if (attempt === null) {
      const reason = `upstream "${route.upstream.name}": every target is unhealthy, ejected or has its circuit open`;
      this.fail(new GatewayError(Errors.NO_HEALTHY_UPSTREAM, reason), false);
      return;
    }
    this.tryOn(attempt);
  }

  private tryOn(attempt: Attempt): void {
    this.attempt = attempt;
    this.attempts++;
    const pool = attempt.target.pool;
    this.pool = pool;
    this.waiter = pool.acquire((conn) => this.onConnection(conn));
  }

  /** The try ended (once per attempt): the upstream counts it for the target's health. */
  private settle(outcome: Outcome): void {
    const attempt = this.attempt;
    if (attempt === null) return;
    this.attempt = null;
    this.ctx.route.upstream.end(attempt, outcome);
  }

  /**
   * After a failed try with nothing sent to the client: another target, when
   * it is safe (the body is at hand; any method if the request never left,
   * idempotent ones otherwise), there is one, and the retry budget allows.
   */
  private retry(error: GatewayError, unsent: boolean, failedOn: UpstreamTarget | null): boolean {
    if (this.out !== Out.None || failedOn === null) return false;
    const bodyAtHand = this.framing === 0 || this.ctx.body !== null || (unsent && this.sentBody !== null);
    if (!bodyAtHand || !(unsent || IDEMPOTENT.has(this.ctx.method))) return false;
    const upstream = this.ctx.route.upstream;
    (this.tried ??= []).push(failedOn);
    const next = upstream.begin(this.ctx, this.tried);
    if (next === null) return false;
    if (!upstream.mayRetry(this.attempts)) {
      upstream.end(next, null);
      return false;
    }
    this.host.log.debug({ reqId: this.ctx.id, route: this.ctx.route.name, code: error.kind.code, reason: error.reason, target: next.target.url }, 'retrying on another target');
    if (this.sentBody !== null && this.framing !== 0 && this.ctx.body === null) {
      this.uploadChunks = this.sentBody;
      this.streamingUpload = false;
    }
    this.sentBody = null;
    this.tryOn(next);
    return true;
  }

  private onConnection(conn: UpstreamConnection | null): void {
    this.waiter = undefined;
    if (this.out === Out.Done) {
      if (conn) conn.abandon();
      return;
    }
    if (!conn) {
      this.fail(new GatewayError(Errors.UPSTREAM_UNAVAILABLE, `no connection to ${this.pool!.target.url} (pool full or retired)`), false);
      return;
    }
    this.send(conn);
  }

  private send(conn: UpstreamConnection): void {
    this.conn = conn;
    this.sentAt = performance.now();
    const ctx = this.ctx;
    // A body a stage holds (ctx.body) is sent with its final length.
    const framing: BodyFraming = ctx.body !== null ? ctx.body.length : this.framing;
    const head = buildRequestHead(ctx, conn.target, framing, this.trustedProxies);
    conn.dispatch(this, head, ctx.method === 'HEAD', framing !== 0);
    if (framing === 0) return;
    if (ctx.body !== null) {
      conn.writeBody(ctx.body);
      conn.endBody();
      return;
    }
    for (const chunk of this.uploadChunks) this.writeUpload(conn, chunk);
    // Kept (references, no copy) while the socket is still connecting: nothing has left yet, so
    // a connect failure may send it to another target. Once connected, bytes are gone for good.
    this.sentBody = conn.connecting ? this.uploadChunks : null;
    this.uploadChunks = [];
    this.uploadBuffered = 0;
    if (this.uploadDone) {
      conn.endBody(this.framing === 'chunked' ? '0\r\n\r\n' : undefined);
    } else {
      this.streamingUpload = true;
      this.onDrain();
    }
  }

  batch(fn: () => void): void {
    // Chunked body writes cork themselves, piece by piece (see CHUNK_PIECE).
    if (this.out === Out.Done || this.out === Out.Chunked) fn();
    else this.corked(fn);
  }

  /** Runs `fn` corked; chunked body bytes it produced are written after, outside that cork. */
  private corked(fn: () => void): void {
    this.inCork = true;
    try {
      this.res.cork(fn);
    } finally {
      this.inCork = false;
    }
    const chunks = this.corkedChunks;
    this.corkedChunks = null;
    if (chunks) for (const chunk of chunks) this.writeChunked(chunk);
    if (this.endAfterCork) {
      this.endAfterCork = false;
      this.endChunked();
    }
  }

  onHead(head: ResponseHead, hasBody: boolean): void {
    this.sentBody = null;
    if (this.out === Out.Done) return;
    this.headAt = performance.now();
    this.head = head;
    this.status = head.statusCode;
    const headers = new HeaderList(filterResponseHeaders(head.headers));
    const stages = this.ctx.route.responseStages;
    if (stages.length === 0) {
      this.writeHead(head.statusCode, head.statusMessage, headers, hasBody, head.contentLength);
      return;
    }
    this.responseCtx = { status: head.statusCode, headers, body: null };
    if (this.ctx.route.needsResponseBody && hasBody) {
      this.out = Out.Buffering;
      this.responseChunks = [];
      return;
    }
    // Head-only stages: hold the body (the socket is paused) until they are done.
    this.out = Out.Holding;
    this.responseChunks = [];
    this.conn?.pause();
    void runResponseStages(this.ctx, this.responseCtx!, this).then(
      () => {
        if (this.out !== Out.Holding) return;
        const rc = this.responseCtx!;
        const held = this.responseChunks!;
        this.responseChunks = null;
        this.corked(() => {
          this.out = Out.None;
          this.writeHead(rc.status, head.statusMessage, rc.headers, hasBody, head.contentLength);
          for (const chunk of held) this.onBody(chunk);
          if (this.completedWhileHolding) this.onComplete();
        });
        if (!this.upstreamPaused) this.conn?.resume();
      },
      (err) => this.stageFailed(err),
    );
  }

  private writeHead(status: number, message: string, headers: HeaderList, hasBody: boolean, contentLength: number): void {
    const res = this.res;
    res.writeStatus(statusLine(status, message));
    const raw = headers.raw;
    for (let i = 0; i < raw.length; i += 2) res.writeHeader(raw[i], raw[i + 1]);
    res.writeHeader('x-request-id', this.ctx.id);
    if (!hasBody) {
      // HEAD keeps the length the upstream announced; 204/304 have none; others have an empty body.
      if (this.ctx.method === 'HEAD') {
        // Written by hand: uWS endWithoutBody(length) counts the response as unfinished and
        // closes the connection when the next request arrives on it.
        if (contentLength >= 0) res.writeHeader('content-length', String(contentLength));
        res.endWithoutBody();
      } else if (status === 204 || status === 304) res.endWithoutBody();
      else res.end();
      this.finishClient();
      return;
    }
    if (contentLength >= 0) {
      this.out = Out.Length;
      this.responseTotal = contentLength;
      if (contentLength === 0) {
        res.end();
        this.finishClient();
      }
    } else {
      this.out = Out.Chunked;
    }
  }

  onBody(chunk: Buffer): void {
    switch (this.out) {
      case Out.Length: {
        this.bytesOut += chunk.length;
        const res = this.res;
        const offset = res.getWriteOffset();
        const [ok, done] = res.tryEnd(chunk, this.responseTotal);
        if (done) this.finishClient();
        // Kept until writable: the upstream read buffer is reused, so copy.
        else if (!ok) this.waitWritable(Buffer.from(chunk), offset);
        return;
      }
      case Out.Chunked:
        this.writeChunked(chunk);
        return;
      case Out.Holding:
        this.responseChunks!.push(Buffer.from(chunk)); // the read buffer is reused: copy
        return;
      case Out.Buffering:
        this.responseBytes += chunk.length;
        if (this.responseBytes > MAX_BUFFERED_RESPONSE) {
          this.fail(new GatewayError(Errors.UPSTREAM_BAD_RESPONSE, `response over ${MAX_BUFFERED_RESPONSE} bytes for a buffering stage`), false);
          return;
        }
        this.responseChunks!.push(Buffer.from(chunk)); // the read buffer is reused: copy
        return;
      default:
        return;
    }
  }

  private writeChunked(chunk: Buffer): void {
    if (this.inCork) {
      (this.corkedChunks ??= []).push(chunk);
      return;
    }
    if (this.out !== Out.Chunked) return;
    this.bytesOut += chunk.length;
    let ok = true;
    for (let off = 0; off < chunk.length; off += CHUNK_PIECE) {
      const piece = chunk.length <= CHUNK_PIECE ? chunk : chunk.subarray(off, off + CHUNK_PIECE);
      this.res.cork(() => {
        if (!this.res.write(piece)) ok = false;
      });
    }
    if (!ok) this.waitWritable(null, 0);
  }

  private endChunked(): void {
    if (this.out !== Out.Chunked) return;
    this.res.cork(() => this.res.end());
    this.finishClient();
  }

  /** Client socket full: stop reading the upstream until uWS can take more. */
  private waitWritable(chunk: Buffer | null, offset: number): void {
    this.pending = chunk;
    this.pendingOffset = offset;
    if (!this.upstreamPaused) {
      this.upstreamPaused = true;
      this.conn?.pause();
    }
    this.res.onWritable((newOffset) => {
      if (this.out === Out.Done) return true;
      const pending = this.pending;
      if (pending) {
        const [ok, done] = this.res.tryEnd(pending.subarray(newOffset - this.pendingOffset), this.responseTotal);
        if (done) {
          this.finishClient();
          return true;
        }
        if (!ok) return false;
        this.pending = null;
      }
      this.upstreamPaused = false;
      this.conn?.resume();
      return true;
    });
  }

  onComplete(): void {
    this.upstreamEndAt = performance.now();
    this.conn = null; // the connection went back to its pool (or closed)
    this.settle(this.head ? { status: this.head.statusCode } : null);
    switch (this.out) {
      case Out.Holding:
        this.completedWhileHolding = true;
        return;
      case Out.Chunked:
        if (this.inCork) this.endAfterCork = true;
        else this.endChunked();
        return;
      case Out.Buffering:
        void this.completeBuffered();
        return;
      default:
        return; // Length mode finished through tryEnd; bodiless answers already ended
    }
  }

  private async completeBuffered(): Promise<void> {
    const rc = this.responseCtx!;
    rc.body = Buffer.concat(this.responseChunks!, this.responseBytes);
    this.responseChunks = null;
    try {
      await runResponseStages(this.ctx, this.responseCtx!, this);
    } catch (err) {
      this.stageFailed(err);
      return;
    }
    if (this.out === Out.Done) return;
    const body = rc.body ?? Buffer.alloc(0);
    this.res.cork(() => {
      this.res.writeStatus(statusLine(rc.status, this.head!.statusMessage));
      const raw = rc.headers.raw;
      for (let i = 0; i < raw.length; i += 2) this.res.writeHeader(raw[i], raw[i + 1]);
      this.res.writeHeader('x-request-id', this.ctx.id);
      this.out = Out.Length;
      this.responseTotal = body.length;
      this.bytesOut = body.length;
      const [ok, done] = this.res.tryEnd(body, body.length);
      if (done) this.finishClient();
      else if (!ok) this.waitWritable(body, 0);
    });
  }

  onError(error: GatewayError, replayable: boolean, unsent = false): void {
    this.conn = null;
    // The upstream closed a pooled socket we reused: send once more on a fresh one, if the body is at hand.
    // Only idempotent methods: a proxy must not retry others (RFC 9110 §9.2.2).
    if (
      replayable &&
      !this.replayed &&
      this.out === Out.None &&
      IDEMPOTENT.has(this.ctx.method) &&
      (this.framing === 0 || this.ctx.body !== null)
    ) {
      const fresh = this.pool?.acquireFresh();
      if (fresh) {
        this.replayed = true;
        this.send(fresh);
        return;
      }
    }
    const failedOn = this.attempt?.target ?? null;
    this.settle({ error, unsent });
    if (this.retry(error, unsent, failedOn)) return;
    this.fail(error, false);
  }

  private stageFailed(err: unknown): void {
    this.host.log.error({ reqId: this.ctx.id, route: this.ctx.route.name, err }, 'response stage threw');
    this.fail(new GatewayError(Errors.INTERNAL, 'response stage threw'), false);
  }

  // ---- endings ----

  /** Answers with a stage's reply (identity, limits...). */
  reply(reply: StageReply): void {
    this.answerError(reply.error, reply.reason, { headers: reply.headers, extra: reply.extra });
  }

  /** Ends the exchange with an error: a problem answer if nothing was sent yet, else a cut connection. */
  fail(error: GatewayError, closeClient: boolean): void {
    if (this.out === Out.Done) return;
    // A timeout is the target's failure; other reasons here (client, stages) are not.
    this.settle(error.kind === Errors.UPSTREAM_TIMEOUT ? { error, unsent: false } : null);
    this.releaseUpstream();
    if (this.out === Out.None || this.out === Out.Buffering || this.out === Out.Holding) {
      this.answerError(error.kind, error.reason, { close: closeClient || !this.uploadDone });
      return;
    }
    // Part of the response already left: cutting the connection is the only honest signal.
    this.host.log.warn({ reqId: this.ctx.id, route: this.ctx.route.name, code: error.kind.code, reason: error.reason }, 'response cut short');
    this.code = error.kind.code;
    this.out = Out.Done;
    if (!this.aborted) this.res.close();
    this.finish();
  }

  private answerError(kind: GatewayErrorKind, reason: string, options: { headers?: [string, string][]; extra?: Record<string, unknown>; close?: boolean }): void {
    if (this.out === Out.Done) return;
    const level = kind.status >= 500 ? 'warn' : 'info';
    this.host.log[level]({ reqId: this.ctx.id, route: this.ctx.route.name, status: kind.status, code: kind.code, reason }, kind.title);
    this.status = kind.status;
    this.code = kind.code;
    this.releaseUpstream();
    if (!this.aborted) {
      this.res.cork(() => writeProblem(this.res, kind, this.ctx.id, { ...options, close: options.close || !this.uploadDone }));
    }
    this.out = Out.Done;
    this.finish();
  }

  /** The client went away (uWS onAborted): free the upstream side. */
  onAborted(): void {
    this.aborted = true;
    if (this.out === Out.Done) return;
    this.out = Out.Done;
    this.releaseUpstream();
    this.finish();
  }

  private releaseUpstream(): void {
    if (this.waiter) {
      this.pool!.cancel(this.waiter);
      this.waiter = undefined;
    }
    // A connection mid-exchange cannot be reused: its framing is unknown now.
    const conn = this.conn;
    this.conn = null;
    conn?.abandon();
    this.settle(null);
  }

  private finishClient(): void {
    if (this.out === Out.Done) return;
    this.out = Out.Done;
    // If the upload is still streaming (upstream answered early), the connection cannot be reused.
    if (!this.uploadDone) this.releaseUpstream();
    this.finish();
  }

  private finish(): void {
    if (this.totalTimer) {
      clearTimeout(this.totalTimer);
      this.totalTimer = null;
    }
    runDoneStages(this.ctx, this.status, this.host.log);
    this.host.done(this);
    // The recorder of the generation the request started on.
    this.ctx.route.recorder.record(this.toRecord(), this.ctx.route.accessLog, this.ctx.route.series);
  }

  private toRecord(): RequestRecord {
    const ctx = this.ctx;
    const now = performance.now();
    const sent = this.sentAt;
    const principal = ctx.state.identity as { consumer?: string } | undefined;
    return {
      id: ctx.id,
      time: Date.now() - (now - ctx.startedAt),
      listener: ctx.listener.name,
      route: ctx.route.name,
      upstream: this.forwardAt === 0 ? '' : ctx.route.upstream.name,
      method: ctx.method,
      path: ctx.path,
      status: this.aborted && this.status === 0 ? 0 : this.status,
      code: this.code,
      consumer: principal?.consumer ?? null,
      clientAddress: ctx.clientAddress,
      bytesIn: this.uploadReceived,
      bytesOut: this.bytesOut,
      totalMs: now - ctx.startedAt,
      upstreamMs: sent === 0 ? null : (this.upstreamEndAt || now) - sent,
      upstreamTtfbMs: sent === 0 || this.headAt === 0 ? null : this.headAt - sent,
      upstreamConnectMs: this.forwardAt === 0 ? null : (sent || now) - this.forwardAt,
      stages: ctx.stageMs,
      span: ctx.span,
    };
  }
}

function uncork(conn: UpstreamConnection): void {
  conn.socket.uncork();
}

/** The upstream's end-to-end headers, without hop-by-hop ones and those uWS writes itself. */
function filterResponseHeaders(raw: string[]): string[] {
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) if (raw[i] === 'connection') listed = connectionTokens(raw[i + 1]);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (DROP_RESPONSE.has(name) || (listed !== null && listed.has(name))) continue;
    out.push(name, raw[i + 1]);
  }
  return out;
}
