import type { HttpResponse } from 'uWebSockets.js';
import { Errors, GatewayError, type GatewayErrorKind } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { RequestContext, ResponseContext, StageReply } from '../pipeline/stage.js';
import { HeaderList } from '../pipeline/headers.js';
import type { ExchangeHandler, UpstreamConnection } from '../upstream/connection.js';
import type { TargetPool, Waiter } from '../upstream/pool.js';
import type { Attempt } from '../upstream/upstream.js';
import type { ResponseHead } from '../upstream/response-parser.js';
import { buildRequestHead, connectionTokens, DROP_RESPONSE, type BodyFraming } from './forward-headers.js';
import { writeProblem } from '../pipeline/respond.js';
import { runDoneStages, runResponseStages } from '../pipeline/run.js';
import type { BlockList } from 'node:net';
import type { RequestRecord } from '../observe/request-record.js';
import { ClientWriter, Out, type ClientWriterHost } from './client-writer.js';
import { UploadRelay } from './upload-relay.js';
import { RetryPolicy } from './retry.js';

/** Largest response a buffering (needsResponseBody) stage may hold. */
const MAX_BUFFERED_RESPONSE = 16 * 1024 * 1024;

export interface ExchangeHost {
  readonly log: Logger;
  /** Called exactly once, when the client side is finished (answered or gone). */
  done(exchange: Exchange): void;
}

/**
 * One client request carried to an upstream and its answer carried back: the
 * state machine between the upload relay (client -> upstream socket), the
 * retry policy (which target, again or not) and the client writer (upstream
 * answer -> client), with the response stages in between when the route has
 * any, and the one record of how it ended.
 */
export class Exchange implements ExchangeHandler, ClientWriterHost {
  aborted = false;
  /** Its place in the gateway's in-flight list (src/server/in-flight.ts); -1 when not in it. */
  inFlightSlot = -1;
  status = 0;
  private readonly client: ClientWriter;
  private readonly upload: UploadRelay;
  private readonly tries: RetryPolicy;
  private conn: UpstreamConnection | null = null;
  private pool: TargetPool | null = null;
  private waiter: Waiter | undefined;
  /** Ends the exchange at its deadline (see forward()). */
  private deadlineTimer: NodeJS.Timeout | null = null;
  /** performance.now() by which the exchange must have its answer's head (or, with totalMs, be over). */
  private deadlineAt = 0;
  /** The deadline is totalMs: it runs past the head, to the end of the answer. */
  private deadlineIsTotal = false;

  // Response stages.
  private responseChunks: Buffer[] | null = null;
  private responseBytes = 0;
  private responseCtx: ResponseContext | null = null;
  private head: ResponseHead | null = null;
  private completedWhileHolding = false;
  // Upstream timing marks (performance.now(); 0 = did not happen), for the record.
  private forwardAt = 0;
  private sentAt = 0;
  private headAt = 0;
  private upstreamEndAt = 0;
  /** The gateway's own error code when it answered instead of the upstream. */
  private code: string | null = null;
  /** Why the answer was cut after part of it had left (a ZTG_* code). */
  private cut: string | undefined;

  constructor(
    private readonly res: HttpResponse,
    readonly ctx: RequestContext,
    private readonly host: ExchangeHost,
    /** Of the config generation the request started on. */
    private readonly trustedProxies: BlockList | null,
    /** Content-Length of the upload, 'chunked', or 0 when there is none. */
    framing: BodyFraming,
  ) {
    this.client = new ClientWriter(res, ctx.id, ctx.method, this);
    this.upload = new UploadRelay(res, framing, ctx.route.maxBodyBytes, this);
    this.tries = new RetryPolicy(ctx.route.upstream, ctx, ctx.method);
  }

  /** The client side is finished (answered or gone): the response-stage runner stops. */
  get finished(): boolean {
    return this.client.out === Out.Done;
  }

  // ---- client upload (uWS onData, registered synchronously by the handler) ----

  onClientData(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.client.out === Out.Done) return;
    this.upload.onData(chunk, isLast, this.conn);
  }

  /** Resolves when the whole upload is in memory (stages that declared needsRequestBody). */
  collectBody(): Promise<Buffer> {
    return this.upload.collect();
  }

  onDrain(): void {
    if (this.client.out !== Out.Done && !this.aborted) this.upload.resumeClient();
  }

  // ---- upstream side ----

  /** After the request stages passed: find a connection and send. */
  forward(): void {
    const route = this.ctx.route;
    // One deadline for the whole exchange, retries included: totalMs when set (to the
    // answer's last byte), else connectMs + firstByteMs to the answer's head. Each try
    // keeps its own phase timers inside it; a retry starts only with time left.
    const timeouts = route.upstream.timeouts;
    this.deadlineIsTotal = timeouts.totalMs > 0;
    const budgetMs = this.deadlineIsTotal ? timeouts.totalMs : timeouts.connectMs + timeouts.firstByteMs;
    this.forwardAt = performance.now();
    this.deadlineAt = this.forwardAt + budgetMs;
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null;
      const reason = this.deadlineIsTotal ? `total timeout ${budgetMs} ms` : `no answer within connectMs + firstByteMs = ${budgetMs} ms, retries included`;
      this.fail(new GatewayError(Errors.UPSTREAM_TIMEOUT, reason), false);
    }, budgetMs);
    const attempt = this.tries.first();
    if (attempt === null) {
      const reason = `upstream "${route.upstream.name}": every target is unhealthy, ejected or has its circuit open`;
      // The same cause for every request while it lasts: one line per interval, with a count.
      route.upstream.warnNoTarget(this.host.log, { reqId: this.ctx.id, route: route.name, status: Errors.NO_HEALTHY_UPSTREAM.status, code: Errors.NO_HEALTHY_UPSTREAM.code, reason });
      this.answerError(Errors.NO_HEALTHY_UPSTREAM, reason, { quiet: true });
      return;
    }
    this.tryOn(attempt);
  }

  private tryOn(attempt: Attempt): void {
    const pool = attempt.target.pool;
    this.pool = pool;
    this.waiter = pool.acquire((conn) => this.onConnection(conn));
  }

  private onConnection(conn: UpstreamConnection | null): void {
    this.waiter = undefined;
    if (this.client.out === Out.Done) {
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
    const framing: BodyFraming = ctx.body !== null ? ctx.body.length : this.upload.framing;
    const head = buildRequestHead(ctx, conn.target, framing, this.trustedProxies);
    conn.dispatch(this, head, ctx.method === 'HEAD', framing !== 0);
    if (framing === 0) return;
    if (ctx.body !== null) {
      conn.writeBody(ctx.body);
      conn.endBody();
      return;
    }
    this.upload.sendTo(conn);
    if (!this.upload.done) this.onDrain();
  }

  /** The body of the request is at hand to send again (none, held by a stage, or never left a connecting socket). */
  private bodyAtHand(unsent: boolean): boolean {
    return this.upload.framing === 0 || this.ctx.body !== null || (unsent && this.upload.resendable);
  }

  batch(fn: () => void): void {
    this.client.batch(fn);
  }

  onHead(head: ResponseHead, hasBody: boolean): void {
    this.upload.forgetSent();
    if (this.client.out === Out.Done) return;
    this.headAt = performance.now();
    if (!this.deadlineIsTotal) this.clearDeadline();
    this.head = head;
    this.status = head.statusCode;
    const headers = new HeaderList(filterResponseHeaders(head.headers));
    const stages = this.ctx.route.responseStages;
    if (stages.length === 0) {
      this.client.writeHead(head.statusCode, head.statusMessage, headers, hasBody, head.contentLength);
      return;
    }
    this.responseCtx = { status: head.statusCode, headers, body: null };
    if (this.ctx.route.needsResponseBody && hasBody) {
      this.client.out = Out.Buffering;
      this.responseChunks = [];
      return;
    }
    // Head-only stages: hold the body (the socket is paused) until they are done.
    this.client.out = Out.Holding;
    this.responseChunks = [];
    this.conn?.pause();
    void runResponseStages(this.ctx, this.responseCtx, this).then(
      () => {
        if (this.client.out !== Out.Holding) return;
        const rc = this.responseCtx!;
        const held = this.responseChunks!;
        this.responseChunks = null;
        this.client.corked(() => {
          this.client.out = Out.None;
          this.client.writeHead(rc.status, head.statusMessage, rc.headers, hasBody, head.contentLength);
          for (const chunk of held) this.onBody(chunk);
          if (this.completedWhileHolding) this.onComplete();
        });
        if (!this.client.upstreamPaused) this.conn?.resume();
      },
      (err) => this.stageFailed(err),
    );
  }

  onBody(chunk: Buffer): void {
    if (this.client.out === Out.HeadHeld) this.client.releaseHead();
    switch (this.client.out) {
      case Out.Length:
        this.client.writeLength(chunk);
        return;
      case Out.Chunked:
        this.client.writeChunked(chunk);
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

  onComplete(): void {
    this.upstreamEndAt = performance.now();
    this.conn = null; // the connection went back to its pool (or closed)
    this.tries.settle(this.head ? { status: this.head.statusCode } : null);
    // A chunked answer that ended with no body byte: its head goes out now.
    if (this.client.out === Out.HeadHeld) this.client.releaseHead();
    switch (this.client.out) {
      case Out.Holding:
        this.completedWhileHolding = true;
        return;
      case Out.Chunked:
        this.client.endChunkedSoon();
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
      await runResponseStages(this.ctx, rc, this);
    } catch (err) {
      this.stageFailed(err);
      return;
    }
    if (this.client.out === Out.Done) return;
    this.client.writeWhole(rc.status, this.head!.statusMessage, rc.headers, rc.body ?? Buffer.alloc(0));
  }

  onError(error: GatewayError, replayable: boolean, unsent = false): void {
    this.conn = null;
    // Nothing of the answer reached the client and the deadline leaves time for another try.
    const mayTryAgain = this.client.out === Out.None && performance.now() < this.deadlineAt;
    // The upstream closed a pooled socket we reused: send once more on a fresh one, if the body is at hand.
    if (replayable && mayTryAgain && this.tries.mayReplay(this.upload.framing === 0 || this.ctx.body !== null)) {
      const fresh = this.pool?.acquireFresh();
      if (fresh) {
        this.tries.replaying();
        this.send(fresh);
        return;
      }
    }
    const failedOn = this.tries.attempt?.target ?? null;
    this.tries.settle({ error, unsent });
    // Another target, when nothing reached the client yet and the policy allows.
    const next = mayTryAgain && failedOn !== null ? this.tries.next(failedOn, unsent, this.bodyAtHand(unsent)) : null;
    if (next !== null) {
      this.host.log.debug({ reqId: this.ctx.id, route: this.ctx.route.name, code: error.kind.code, reason: error.reason, target: next.target.url }, 'retrying on another target');
      this.upload.rewind();
      this.tryOn(next);
      return;
    }
    this.fail(error, false);
  }

  private stageFailed(err: unknown): void {
    this.host.log.error({ reqId: this.ctx.id, route: this.ctx.route.name, err }, 'response stage threw');
    this.fail(new GatewayError(Errors.INTERNAL, 'response stage threw'), false);
  }

  // ---- the client writer's host ----

  pauseUpstream(): void {
    this.conn?.pause();
  }

  resumeUpstream(): void {
    this.conn?.resume();
  }

  finishClient(): void {
    if (this.client.out === Out.Done) return;
    this.client.out = Out.Done;
    // If the upload is still streaming (upstream answered early), the connection cannot be reused.
    if (!this.upload.done) this.releaseUpstream();
    this.finish();
  }

  // ---- endings ----

  /** Answers with a stage's reply (identity, limits...). */
  reply(reply: StageReply): void {
    this.answerError(reply.error, reply.reason, { headers: reply.headers, extra: reply.extra });
  }

  /** Ends the exchange with an error: a problem answer if nothing was sent yet, else a cut connection. */
  fail(error: GatewayError, closeClient: boolean): void {
    const out = this.client.out;
    if (out === Out.Done) return;
    // A timeout is the target's failure; other reasons here (client, stages) are not.
    this.tries.settle(error.kind === Errors.UPSTREAM_TIMEOUT ? { error, unsent: false } : null);
    this.releaseUpstream();
    if (out === Out.None || out === Out.Buffering || out === Out.Holding || out === Out.HeadHeld) {
      this.answerError(error.kind, error.reason, { close: closeClient || !this.upload.done });
      return;
    }
    // Part of the response already left: cutting the connection is the only honest signal.
    // The record keeps the status the client got and says why it was cut.
    this.host.log.warn({ reqId: this.ctx.id, route: this.ctx.route.name, status: this.status, code: error.kind.code, cut: error.kind.code, reason: error.reason, bytesOut: this.client.bytesOut }, 'response cut short');
    this.cut = error.kind.code;
    this.client.out = Out.Done;
    if (!this.aborted) this.res.close();
    this.finish();
  }

  private answerError(kind: GatewayErrorKind, reason: string, options: { headers?: [string, string][]; extra?: Record<string, unknown>; close?: boolean; quiet?: boolean }): void {
    if (this.client.out === Out.Done) return;
    const level = kind.status >= 500 ? 'warn' : 'info';
    if (!options.quiet) this.host.log[level]({ reqId: this.ctx.id, route: this.ctx.route.name, status: kind.status, code: kind.code, reason }, kind.title);
    this.status = kind.status;
    this.code = kind.code;
    this.releaseUpstream();
    if (!this.aborted) {
      this.res.cork(() => writeProblem(this.res, kind, this.ctx.id, { ...options, close: options.close || !this.upload.done }));
    }
    this.client.out = Out.Done;
    this.finish();
  }

  /** The client went away (uWS onAborted): free the upstream side. */
  onAborted(): void {
    this.aborted = true;
    if (this.client.out === Out.Done) return;
    this.client.out = Out.Done;
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
    this.tries.settle(null);
  }

  private clearDeadline(): void {
    if (this.deadlineTimer) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = null;
    }
  }

  private finish(): void {
    this.clearDeadline();
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
      bytesIn: this.upload.received,
      bytesOut: this.client.bytesOut,
      totalMs: now - ctx.startedAt,
      upstreamMs: sent === 0 ? null : (this.upstreamEndAt || now) - sent,
      upstreamTtfbMs: sent === 0 || this.headAt === 0 ? null : this.headAt - sent,
      upstreamConnectMs: this.forwardAt === 0 ? null : (sent || now) - this.forwardAt,
      cut: this.cut,
      budgetLeftMs: this.forwardAt === 0 ? undefined : Math.max(0, this.deadlineAt - (this.deadlineIsTotal || this.headAt === 0 ? now : this.headAt)),
      stages: ctx.stageMs,
      span: ctx.span,
    };
  }
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
