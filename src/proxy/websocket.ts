import type { HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import WebSocket from 'ws';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { BlockList } from 'node:net';
import { Errors, GatewayError, type GatewayErrorKind } from '../errors.js';
import type { RequestContext, StageReply } from '../pipeline/stage.js';
import type { Attempt } from '../upstream/upstream.js';
import { writeProblem } from '../pipeline/respond.js';
import { runDoneStages, runRequestStages } from '../pipeline/run.js';
import { buildRequestHead } from './forward-headers.js';
import { recordWebSocket, WebSocketSession, type SessionHost, type SessionRef } from './websocket-session.js';
import { WEBSOCKET_DEFAULTS, type WebSocketRouteConfig } from './websocket-schema.js';

/** What an upgrade needs of its process. */
export interface UpgradeHost extends SessionHost {
  readonly draining: boolean;
  /** A session exists (uWS upgraded the client): counted until sessionEnded. */
  sessionStarted(session: WebSocketSession): void;
}

/** Headers of the client's handshake that belong to its hop only: ws writes its own for the upstream hop. */
const HANDSHAKE_HEADERS = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol']);

const EMPTY = Buffer.alloc(0);

/**
 * The intake's hand-off for a WebSocket handshake (the same intake as HTTP:
 * copy, framing, path, route): the handshake checks, then the route's request
 * stages, then the upstream handshake.
 */
export function admitUpgrade(
  res: HttpResponse,
  ctx: RequestContext,
  hasBody: boolean,
  context: us_socket_context_t,
  host: UpgradeHost,
  trustedProxies: BlockList | null,
): void {
  const upgrade = new WebSocketUpgrade(res, ctx, context, host, trustedProxies);
  res.onAborted(() => upgrade.onAborted());
  if (upgrade.admit(hasBody)) runRequestStages(upgrade, host.log);
}

export function websocketOptionsOf(ctx: RequestContext): WebSocketRouteConfig {
  // Routes compiled from configs validated by the schema always carry it; hand-built ones may not.
  return ctx.route.config.websocket ?? WEBSOCKET_DEFAULTS;
}

/**
 * A WebSocket handshake on its way through the gateway: it was read and
 * routed by the same intake as any request, passes the route's request stages
 * (identity, rate limit, inspection) like one, and only when the upstream
 * answered 101 is the client upgraded (corked). Any refusal before that is an
 * ordinary problem+json answer.
 */
export class WebSocketUpgrade {
  aborted = false;
  private done = false;
  private upstream: WebSocket | null = null;
  private attempt: Attempt | null = null;
  private forwardedAt = 0;
  private code: string | null = null;
  status = 0;

  constructor(
    private readonly res: HttpResponse,
    readonly ctx: RequestContext,
    private readonly context: us_socket_context_t,
    private readonly host: UpgradeHost,
    private readonly trustedProxies: BlockList | null,
  ) {}

  /** Checks what only a handshake needs; false when it answered (refused). */
  admit(hasBody: boolean): boolean {
    const ctx = this.ctx;
    if (!websocketOptionsOf(ctx).enabled) {
      this.answer(Errors.FORBIDDEN, `WebSocket upgrade not enabled on route "${ctx.route.name}"`);
      return false;
    }
    if (ctx.method !== 'GET' || hasBody) {
      // A body we will not read: close after answering.
      this.answer(Errors.BAD_REQUEST, `WebSocket handshake as ${ctx.method}${hasBody ? ' with a body' : ''}`, undefined, undefined, hasBody);
      return false;
    }
    // RFC 6455 §4.4: name the version we speak.
    if (ctx.headers.get('sec-websocket-version') !== '13') {
      this.answer(Errors.BAD_HEADER, 'Sec-WebSocket-Version is not 13', [['sec-websocket-version', '13']]);
      return false;
    }
    return true;
  }

  /** The handshake has no body; stages that want one see it empty. */
  collectBody(): Promise<Buffer> {
    return Promise.resolve(EMPTY);
  }

  /** A stage refused the handshake (401, 403, 429...). */
  reply(reply: StageReply): void {
    this.answer(reply.error, reply.reason, reply.headers, reply.extra);
  }

  fail(error: GatewayError): void {
    this.answer(error.kind, error.reason);
  }

  /** The stages passed: open the upstream side; the client is upgraded when it answers 101. */
  forward(): void {
    const ctx = this.ctx;
    const upstream = ctx.route.upstream;
    const attempt = upstream.begin(ctx);
    if (!attempt) {
      this.answer(Errors.NO_HEALTHY_UPSTREAM, `no target of upstream "${upstream.name}" can take the handshake`);
      return;
    }
    this.attempt = attempt;
    this.forwardedAt = performance.now();
    const target = attempt.target.pool.target;
    const options = websocketOptionsOf(ctx);
    const url = `${target.tls ? 'wss' : 'ws'}://${target.authority}${ctx.path}${ctx.query ? '?' + ctx.query : ''}`;
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, offeredProtocols(ctx), {
        headers: upstreamHeaders(buildRequestHead(ctx, target, 0, this.trustedProxies)) as Record<string, string>,
        maxPayload: options.maxMessageBytes,
        perMessageDeflate: false,
        followRedirects: false,
        handshakeTimeout: upstream.timeouts.connectMs + upstream.timeouts.firstByteMs,
        ...(target.tlsOptions ?? {}),
      });
    } catch (err) {
      // ws refuses malformed subprotocol lists before connecting.
      this.endAttempt(null);
      this.answer(Errors.BAD_HEADER, `Sec-WebSocket-Protocol: ${(err as Error).message}`);
      return;
    }
    this.upstream = socket;
    socket.on('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      req.destroy();
      this.endAttempt({ status: res.statusCode ?? 0 });
      this.answer(Errors.UPSTREAM_BAD_RESPONSE, `upstream answered the handshake with ${res.statusCode}`);
    });
    socket.on('error', (err: Error & { code?: string }) => {
      if (this.done) return;
      const timedOut = err.message.includes('handshake has timed out');
      const code = err.code ?? '';
      // Certificate verdicts carry OpenSSL's names (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED...);
      // socket errors start with E (ECONNRESET, EPROTO...).
      const tls = target.tls && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || (/^[A-Z0-9_]+$/.test(code) && code[0] !== 'E'));
      // Nothing reached the service: refused, unresolvable, unreachable, or a failed TLS handshake.
      const unsent = tls || code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH';
      const kind = timedOut
        ? Errors.UPSTREAM_TIMEOUT
        : tls
          ? Errors.UPSTREAM_TLS
          : unsent
            ? Errors.UPSTREAM_CONNECT
            : code === 'ECONNRESET'
              ? Errors.UPSTREAM_RESET
              : Errors.UPSTREAM_BAD_RESPONSE;
      this.endAttempt({ error: new GatewayError(kind, err.message), unsent });
      this.answer(kind, `upstream handshake: ${err.message}`);
    });
    socket.once('open', () => this.onUpstreamOpen(socket));
  }

  private onUpstreamOpen(socket: WebSocket): void {
    this.endAttempt({ status: 101 });
    if (this.done) {
      socket.terminate();
      return;
    }
    this.done = true;
    this.status = 101;
    socket.removeAllListeners('error');
    const session = new WebSocketSession(this.ctx, socket, websocketOptionsOf(this.ctx), this.host);
    session.handshakeMs = performance.now() - this.forwardedAt;
    this.host.sessionStarted(session);
    const headers = this.ctx.headers;
    // uWS computes Sec-WebSocket-Accept from the client's key; the subprotocol is the one the upstream chose.
    this.res.cork(() => {
      this.res.upgrade<SessionRef>({ session }, headers.get('sec-websocket-key') ?? '', socket.protocol, '', this.context);
    });
  }

  /** The client went away before the upgrade. */
  onAborted(): void {
    this.aborted = true;
    if (this.done) return;
    this.done = true;
    this.endAttempt(null);
    this.upstream?.terminate();
    this.finish();
  }

  private endAttempt(outcome: Parameters<RequestContext['route']['upstream']['end']>[1]): void {
    if (this.attempt) {
      this.ctx.route.upstream.end(this.attempt, outcome);
      this.attempt = null;
    }
  }

  private answer(kind: GatewayErrorKind, reason: string, headers?: [string, string][], extra?: Record<string, unknown>, close = false): void {
    if (this.done) return;
    this.done = true;
    this.status = kind.status;
    this.code = kind.code;
    const level = kind.status >= 500 ? 'warn' : 'info';
    this.host.log[level]({ reqId: this.ctx.id, route: this.ctx.route.name, status: kind.status, code: kind.code, reason, websocket: true }, kind.title);
    if (this.upstream && this.upstream.readyState !== this.upstream.CLOSED) this.upstream.terminate();
    if (!this.aborted) this.res.cork(() => writeProblem(this.res, kind, this.ctx.id, { headers, extra, close: close || this.host.draining }));
    this.finish();
  }

  /** The handshake ended without a session: the stages' onDone. */
  private finish(): void {
    runDoneStages(this.ctx, this.status, this.host.log);
    recordWebSocket(this.ctx, this.aborted ? 0 : this.status, this.code, this.forwardedAt !== 0, 0, 0, null);
  }
}

/** The client's offered subprotocols, passed on for the upstream to choose from. */
function offeredProtocols(ctx: RequestContext): string[] {
  const offered = ctx.headers.get('sec-websocket-protocol');
  if (!offered) return [];
  return offered.split(',').map((p) => p.trim());
}

/**
 * The upstream handshake's headers: exactly what an HTTP request would carry
 * upstream (client end-to-end headers filtered, forwarding and identity headers
 * added), minus framing and this hop's handshake fields, which ws writes.
 */
function upstreamHeaders(head: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const lines = head.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    if (name === 'connection' || name === 'content-length' || HANDSHAKE_HEADERS.has(name)) continue;
    const value = line.slice(colon + 1).trim();
    // Repeated fields stay repeated (joining cookies with a comma would change them).
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}
