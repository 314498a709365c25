import type { WebSocket as ClientSocket } from 'uWebSockets.js';
import type { WebSocket as UpstreamSocket, RawData } from 'ws';
import type { Logger } from '../observe/log.js';
import type { RequestContext } from '../pipeline/stage.js';
import { runDoneStages } from '../pipeline/run.js';
import type { RequestRecord } from '../observe/request-record.js';
import type { WebSocketRouteConfig } from './websocket-schema.js';

/** What a session needs of its process. */
export interface SessionHost {
  readonly log: Logger;
  /** Called once when the session ends, whichever side ended it. */
  sessionEnded(session: WebSocketSession): void;
}

/**
 * The uWS socket's user data. uWS copies the properties of the object given to
 * upgrade() onto its own, so the session travels as a property, not as the object.
 */
export interface SessionRef {
  readonly session: WebSocketSession;
}

/** Close codes (RFC 6455 §7.4, IANA registry) the gateway itself sends. */
export const Close = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  TOO_BIG: 1009,
  /** The upstream vanished or failed mid-stream. */
  UPSTREAM_GONE: 1011,
  /** The client sent faster than the upstream reads, beyond the buffer bound. */
  TRY_AGAIN_LATER: 1013,
  /** The upstream broke the protocol (bad frame): the gateway's "bad gateway". */
  BAD_GATEWAY: 1014,
});

/** The reason uWS reports when it cuts a connection for a message over maxPayloadLength (no close frame is sent). */
const UWS_TOO_BIG = 'Received too big message';

/** Codes an endpoint may put in a close frame (1005, 1006 and 1015 are only reported, never sent). */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * One proxied WebSocket: the client side terminated by uWS, the upstream side
 * a `ws` client. Messages keep their type; each direction's buffering is
 * bounded (upstream → client: the upstream is paused while uWS holds more than
 * maxBufferedBytes; client → upstream: uWS cannot pause a WebSocket's reads, so
 * a client that outruns its upstream by that much is closed with 1013). Either
 * side closing closes the other with the code mapped.
 */
export class WebSocketSession {
  /** Its place in the gateway's list of open sessions (src/server/in-flight.ts); -1 when not in it. */
  inFlightSlot = -1;
  private client: ClientSocket<SessionRef> | null = null;
  /** Upstream messages that arrived between the upstream's 101 and uWS's open. */
  private early: { data: RawData; binary: boolean }[] | null = [];
  private earlyBytes = 0;
  private upstreamPaused = false;
  private ended = false;
  private readonly idleTimer: NodeJS.Timeout;
  /** Times the upstream was paused for a slow client (a flow-control observable for logs and tests). */
  pauses = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** How the session ended, for the log line and the stages' onDone. */
  closeCode = 0;
  closedBy: 'client' | 'upstream' | 'gateway' | '' = '';

  constructor(
    readonly ctx: RequestContext,
    private readonly upstream: UpstreamSocket,
    private readonly options: WebSocketRouteConfig,
    private readonly host: SessionHost,
  ) {
    upstream.on('message', (data, isBinary) => this.onUpstreamMessage(data, isBinary));
    upstream.on('close', (code, reason) => this.onUpstreamClose(code, reason));
    upstream.on('error', (err) => this.onUpstreamError(err));
    this.idleTimer = setTimeout(() => this.onIdle(), options.idleTimeoutS * 1000);
    this.idleTimer.unref();
  }

  // ---- client side (uWS behavior callbacks) ----

  /** uWS open: the client side exists now; what the upstream sent meanwhile goes out first. */
  attach(client: ClientSocket<SessionRef>): void {
    if (this.ended) {
      client.end(Close.GOING_AWAY, 'session ended');
      return;
    }
    this.client = client;
    const early = this.early!;
    this.early = null;
    this.earlyBytes = 0;
    for (const m of early) this.toClient(m.data, m.binary);
    if (this.upstreamPaused && client.getBufferedAmount() <= this.options.maxBufferedBytes / 2) this.resumeUpstream();
  }

  onClientMessage(message: ArrayBuffer, isBinary: boolean): void {
    if (this.ended) return;
    const size = message.byteLength;
    // uWS enforces the listener's ceiling; the route may allow less.
    if (size > this.options.maxMessageBytes) {
      this.end('gateway', Close.TOO_BIG, `client message of ${size} bytes over ${this.options.maxMessageBytes}`, Close.TOO_BIG, 'message too big');
      return;
    }
    this.bytesIn += size;
    this.idleTimer.refresh();
    // uWS neuters the ArrayBuffer when this callback returns: copy.
    this.upstream.send(Buffer.copyBytesFrom(new Uint8Array(message)), { binary: isBinary });
    if (this.upstream.bufferedAmount > this.options.maxBufferedBytes) {
      this.end('gateway', Close.TRY_AGAIN_LATER, `upstream backlog over ${this.options.maxBufferedBytes} bytes: the client outran the upstream`, Close.GOING_AWAY, 'client backlog');
    }
  }

  /** uWS drain: the client took some of what was buffered for it. */
  onClientDrain(): void {
    if (this.upstreamPaused && this.client && this.client.getBufferedAmount() <= this.options.maxBufferedBytes / 2) this.resumeUpstream();
  }

  /** uWS close: whatever the reason (close frame, reset, our own end()); the socket is unusable after. */
  onClientClose(code: number, reason: ArrayBuffer): void {
    this.client = null;
    if (this.ended) return;
    // 1006: the client vanished without a close frame, or uWS cut it for a message over the
    // listener's ceiling (it says so in the reason); 1005: a close frame without a code.
    if (code === 1006 && Buffer.from(reason).toString('latin1') === UWS_TOO_BIG) {
      this.end('client', Close.TOO_BIG, `client message over the listener's ceiling (uWS closed the connection)`, Close.TOO_BIG, 'message too big');
      return;
    }
    const upstreamCode = sendable(code) ? code : code === 1005 ? undefined : Close.GOING_AWAY;
    this.end('client', code, code === 1006 ? 'client went away' : 'client closed', upstreamCode, Buffer.from(reason).subarray(0, 123));
  }

  // ---- upstream side (ws events) ----

  private onUpstreamMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    this.idleTimer.refresh();
    if (this.client === null) {
      // Not yet attached: hold a little, then stop reading the upstream.
      this.early!.push({ data, binary: isBinary });
      this.earlyBytes += (data as Buffer).length;
      if (this.earlyBytes > this.options.maxBufferedBytes) this.pauseUpstream();
      return;
    }
    this.toClient(data, isBinary);
  }

  private toClient(data: RawData, isBinary: boolean): void {
    const client = this.client!;
    const buffer = data as Buffer; // binaryType 'nodebuffer': one Buffer per message
    this.bytesOut += buffer.length;
    // Outside a uWS callback: cork so frame header and payload leave in one write.
    let status = 0;
    client.cork(() => {
      status = client.send(buffer, isBinary);
    });
    // 2: dropped. maxBackpressure sits far above the bound kept here, so this means a bug, not a slow client.
    if (status === 2) {
      this.end('gateway', Close.UPSTREAM_GONE, 'uWS dropped a message (backpressure limit)', Close.GOING_AWAY, 'gateway error');
      return;
    }
    if (client.getBufferedAmount() > this.options.maxBufferedBytes) this.pauseUpstream();
  }

  private pauseUpstream(): void {
    if (this.upstreamPaused) return;
    this.upstreamPaused = true;
    this.pauses++;
    this.upstream.pause();
  }

  private resumeUpstream(): void {
    this.upstreamPaused = false;
    this.upstream.resume();
  }

  private upstreamError: Error | null = null;

  private onUpstreamError(err: Error): void {
    // ws follows every error with 'close'; keep the cause for it.
    this.upstreamError ??= err;
  }

  private onUpstreamClose(code: number, reason: Buffer): void {
    if (this.ended) return;
    const err = this.upstreamError as (Error & { code?: string }) | null;
    if (err) {
      // A frame the upstream had no right to send (too big, bad opcode, bad UTF-8).
      const tooBig = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      const clientCode = tooBig ? Close.TOO_BIG : err.code?.startsWith('WS_ERR_') ? Close.BAD_GATEWAY : Close.UPSTREAM_GONE;
      this.end('upstream', clientCode, `upstream error: ${err.message}`, undefined, undefined);
      return;
    }
    if (code === 1006) {
      this.end('upstream', Close.UPSTREAM_GONE, 'upstream went away mid-stream', undefined, undefined);
      return;
    }
    this.end('upstream', sendable(code) ? code : Close.NORMAL, 'upstream closed', undefined, reason);
  }

  private onIdle(): void {
    if (this.ended) return;
    this.end('gateway', Close.GOING_AWAY, `idle for ${this.options.idleTimeoutS} s`, Close.GOING_AWAY, 'idle timeout');
  }

  /** The gateway is shutting down. */
  shutdown(): void {
    if (this.ended) return;
    this.end('gateway', Close.GOING_AWAY, 'gateway shutting down', Close.GOING_AWAY, 'gateway shutting down');
  }

  // ---- the end ----

  /**
   * Ends both sides once. `clientCode` is what the client is sent (or what it
   * sent, when it closed); `upstreamCode` undefined closes the upstream without
   * a code (or leaves it to the close handshake it started).
   */
  private end(by: 'client' | 'upstream' | 'gateway', clientCode: number, reason: string, upstreamCode: number | undefined, upstreamReason: string | Buffer | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.closedBy = by;
    this.closeCode = clientCode;
    clearTimeout(this.idleTimer);
    const client = this.client;
    this.client = null;
    if (by !== 'client' && client) {
      // The upstream's own reason goes on when it sent one; ours is short and says nothing internal.
      const text = by === 'upstream' && Buffer.isBuffer(upstreamReason) ? upstreamReason : clientReason(clientCode);
      // Mostly called from a ws event, outside any uWS callback: cork, as every late write to uWS.
      client.cork(() => client.end(clientCode, text));
    }
    if (by !== 'upstream') closeUpstream(this.upstream, upstreamCode, upstreamReason);
    else if (this.upstream.readyState !== this.upstream.CLOSED) this.upstream.terminate();
    const log = this.host.log;
    const line = {
      reqId: this.ctx.id,
      route: this.ctx.route.name,
      closedBy: by,
      code: clientCode,
      reason,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      upstreamPauses: this.pauses,
    };
    if (clientCode === Close.NORMAL || clientCode === Close.GOING_AWAY || clientCode === 1005) log.info(line, 'websocket closed');
    else log.warn(line, 'websocket closed');
    this.host.sessionEnded(this);
    runDoneStages(this.ctx, 101, log);
    recordWebSocket(this.ctx, 101, null, true, this.bytesIn, this.bytesOut, this.handshakeMs);
  }

  /** Time from forwarding the handshake to the upstream's 101, for the access record. */
  handshakeMs: number | null = null;
}

/**
 * The access record of a handshake that ended without a session (refused,
 * failed, abandoned) or of a session that ended (status 101, its duration and
 * message bytes), through the route's recorder like any request.
 */
export function recordWebSocket(
  ctx: RequestContext,
  status: number,
  code: string | null,
  forwarded: boolean,
  bytesIn: number,
  bytesOut: number,
  handshakeMs: number | null,
): void {
  const now = performance.now();
  const principal = ctx.state.identity as { consumer?: string } | undefined;
  const record: RequestRecord = {
    id: ctx.id,
    time: Date.now() - (now - ctx.startedAt),
    listener: ctx.listener.name,
    route: ctx.route.name,
    upstream: forwarded ? ctx.route.upstream.name : '',
    method: ctx.method,
    path: ctx.path,
    status,
    code,
    consumer: principal?.consumer ?? null,
    clientAddress: ctx.clientAddress,
    bytesIn,
    bytesOut,
    totalMs: now - ctx.startedAt,
    upstreamMs: null,
    upstreamTtfbMs: handshakeMs,
    upstreamConnectMs: null,
    stages: ctx.stageMs,
    span: ctx.span,
  };
  ctx.route.recorder.record(record, ctx.route.accessLog, ctx.route.series);
}

function clientReason(code: number): string {
  switch (code) {
    case Close.TOO_BIG:
      return 'message too big';
    case Close.UPSTREAM_GONE:
      return 'upstream went away';
    case Close.TRY_AGAIN_LATER:
      return 'upstream cannot keep up';
    case Close.BAD_GATEWAY:
      return 'upstream protocol error';
    default:
      return '';
  }
}

/** Closes the upstream with a close frame when it is open, else cuts the handshake or socket. */
function closeUpstream(upstream: UpstreamSocket, code: number | undefined, reason: string | Buffer | undefined): void {
  if (upstream.readyState === upstream.OPEN) {
    // A paused upstream would never read the close handshake's answer.
    upstream.resume();
    if (code === undefined) upstream.close();
    else upstream.close(code, reason);
  } else if (upstream.readyState !== upstream.CLOSED) {
    upstream.terminate();
  }
}
