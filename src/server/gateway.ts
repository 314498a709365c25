import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, us_socket_context_t, WebSocket as UwsWebSocket, WebSocketBehavior } from 'uWebSockets.js';
import { loadUws } from './uws.js';
import { createHandler, createIntake, type HandlerHost } from './handler.js';
import { CompiledConfig, listenerInfo, type ProcessServices } from './compiled.js';
import type { ListenerInfo } from '../pipeline/stage.js';
import type { GatewayConfig, ListenerConfig } from '../config/types.js';
import { resolveSecret } from '../core/secrets.js';
import type { Logger } from '../observe/log.js';
import type { Gauge } from '../core/metrics.js';
import type { Exchange } from '../proxy/exchange.js';
import { admitUpgrade, type UpgradeHost } from '../proxy/websocket.js';
import type { SessionRef, WebSocketSession } from '../proxy/websocket-session.js';
import { WEBSOCKET_DEFAULTS } from '../proxy/websocket-schema.js';
import { InFlight } from './in-flight.js';

/** Bytes uWS may buffer for one WebSocket before it drops sends; far above the sessions' own bound, which applies first. */
const UWS_MAX_BACKPRESSURE = 1024 * 1024 * 1024;

/**
 * One gateway process: every configured listener (the kernel spreads
 * connections over processes through SO_REUSEPORT), one current config
 * generation, and the set of requests in flight for draining.
 */
export class Gateway implements HandlerHost, UpgradeHost {
  draining = false;
  private config!: CompiledConfig;
  private readonly inFlight = new InFlight<Exchange>();
  /** Open proxied WebSockets (upgraded clients), for the gauge and for draining. */
  private readonly sessions = new InFlight<WebSocketSession>();
  private readonly sessionsGauge: Gauge;
  /**
   * uWS's per-listener message ceiling (maxPayloadLength), fixed when the
   * listeners open: the largest maxMessageBytes of the WebSocket routes then.
   * Routes enforce their own, smaller limits on top.
   */
  private readonly wsCeiling: number;
  private readonly sockets: us_listen_socket[] = [];
  private drained: (() => void) | null = null;
  private readonly listenerKey: string;

  constructor(
    readonly log: Logger,
    private readonly services: ProcessServices,
    private readonly initial: GatewayConfig,
  ) {
    this.listenerKey = JSON.stringify(initial.listeners);
    this.wsCeiling = webSocketCeiling(initial);
    this.sessionsGauge = services.metrics.gauge('ztgate_websockets_open', 'Proxied WebSocket sessions open in this process.');
  }

  /** Compiles the first config (loading identity keys) before anything listens. */
  async init(): Promise<void> {
    this.config = await CompiledConfig.create(this.initial, this.services, null);
  }

  current(): CompiledConfig {
    return this.config;
  }

  track(exchange: Exchange): void {
    this.inFlight.add(exchange);
  }

  untrack(exchange: Exchange): void {
    this.inFlight.delete(exchange);
    if (this.drained && this.inFlight.size === 0) this.drained();
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  sessionStarted(session: WebSocketSession): void {
    this.sessions.add(session);
    this.sessionsGauge.set([], this.sessions.size);
    // Upgraded while draining: close it at once, politely.
    if (this.draining) session.shutdown();
  }

  sessionEnded(session: WebSocketSession): void {
    this.sessions.delete(session);
    this.sessionsGauge.set([], this.sessions.size);
  }

  /** Proxied WebSockets open in this process. */
  get webSocketCount(): number {
    return this.sessions.size;
  }

  async listen(): Promise<{ name: string; url: string }[]> {
    const uws = loadUws();
    const bound: { name: string; url: string }[] = [];
    for (const l of this.config.source.listeners) {
      const app = this.createApp(uws, l);
      const socket = await new Promise<us_listen_socket | false>((resolve) => app.listen(l.host, l.port, resolve));
      if (!socket) throw new Error(`listener "${l.name}": cannot listen on ${l.host}:${l.port} (in use or not permitted)`);
      this.sockets.push(socket);
      const port = uws.us_socket_local_port(socket);
      bound.push({ name: l.name, url: `${l.tls ? 'https' : 'http'}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${port}` });
    }
    return bound;
  }

  private createApp(uws: ReturnType<typeof loadUws>, l: ListenerConfig): TemplatedApp {
    const info = listenerInfo(l);
    const handler = createHandler(this, info);
    // uWS hands WebSocket handshakes (GET with Upgrade and a key) to ws(), and yields every
    // other request on the same path to any() (test/proxy/websocket.test.ts pins this).
    const behavior = this.webSocketBehavior(uws, info);
    if (!l.tls) return uws.App().ws('/*', behavior).any('/*', handler);
    const [first, ...others] = l.tls.certificates;
    const options = (c: typeof first) => ({
      cert_file_name: c.cert,
      key_file_name: c.key,
      passphrase: c.passphrase ? resolveSecret(c.passphrase) : undefined,
      ca_file_name: l.tls!.clientCa,
      // TLS 1.2 and later only; uWS takes OpenSSL option bits (SSL_OP_NO_SSLv3|TLSv1|TLSv1_1).
      ssl_ciphers: 'ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!MD5:!DSS',
    });
    // Register the default handler first: domain() below switches where routes go.
    const app = uws.SSLApp(options(first)).ws('/*', behavior).any('/*', handler);
    // Further certificates are chosen by SNI; the first is the default.
    for (const c of others) {
      for (const name of c.serverNames ?? []) {
        app.addServerName(name, options(c));
        app.domain(name).ws('/*', behavior).any('/*', handler);
      }
    }
    return app;
  }

  /**
   * The WebSocket side of a listener: handshakes go through the same intake as
   * any request, then admitUpgrade (stages, upstream handshake, upgrade); each
   * session is the uWS socket's user data. uWS's own idle timeout and pings are
   * off (sessions keep their route's idle timer) and so is compression (a
   * message's size is what the limits see).
   */
  private webSocketBehavior(uws: ReturnType<typeof loadUws>, info: ListenerInfo): WebSocketBehavior<SessionRef> {
    const upgrade = createIntake<us_socket_context_t>(this, info, (res, ctx, framing, config, context) =>
      admitUpgrade(res, ctx, framing !== 0, context, this, config.trustedProxies),
    );
    return {
      maxPayloadLength: this.wsCeiling,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      maxBackpressure: UWS_MAX_BACKPRESSURE,
      closeOnBackpressureLimit: false,
      compression: uws.DISABLED,
      upgrade: upgrade as (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => void,
      // A fault in one session's code closes that session, not the process and everything in it.
      open: (ws) => {
        try {
          ws.getUserData().session.attach(ws);
        } catch (err) {
          this.sessionThrew(ws, err);
        }
      },
      message: (ws, message, isBinary) => {
        try {
          ws.getUserData().session.onClientMessage(message, isBinary);
        } catch (err) {
          this.sessionThrew(ws, err);
        }
      },
      drain: (ws) => {
        try {
          ws.getUserData().session.onClientDrain();
        } catch (err) {
          this.sessionThrew(ws, err);
        }
      },
      close: (ws, code, reason) => {
        try {
          ws.getUserData().session.onClientClose(code, reason);
        } catch (err) {
          this.log.error({ reqId: ws.getUserData().session.ctx.id, err }, 'websocket close handler threw');
        }
      },
    };
  }

  private sessionThrew(ws: UwsWebSocket<SessionRef>, err: unknown): void {
    this.log.error({ reqId: ws.getUserData().session.ctx.id, err }, 'websocket handler threw; closing the session');
    // end() runs the close handler, which closes the upstream side.
    try {
      ws.end(1011, 'gateway error');
    } catch {
      // uWS throws on a socket that is already closed: nothing left to end.
    }
  }

  /**
   * Swaps in a new config for new requests; requests in flight finish on the
   * old one, whose idle upstream sockets are closed. Listener changes need a
   * restart (sockets are not re-bound) and are reported, not applied.
   */
  async reload(config: GatewayConfig): Promise<{ listenersChanged: boolean }> {
    const previous = this.config;
    const next = await CompiledConfig.create(config, this.services, previous);
    this.config = next;
    previous.retire(next);
    const ceiling = webSocketCeiling(config);
    if (ceiling > this.wsCeiling) {
      this.log.warn({ wanted: ceiling, applied: this.wsCeiling }, 'websocket maxMessageBytes above the listeners\' limit: takes effect at restart');
    }
    return { listenersChanged: JSON.stringify(config.listeners) !== this.listenerKey };
  }

  /** SIGTERM: stop accepting, let requests in flight finish until the deadline. */
  async drain(deadlineMs: number): Promise<number> {
    this.draining = true;
    for (const s of this.sessions.snapshot()) s.shutdown();
    const uws = loadUws();
    for (const s of this.sockets.splice(0)) uws.us_listen_socket_close(s);
    if (this.inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadlineMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const left = this.inFlight.size;
    for (const e of this.inFlight.snapshot()) e.onAborted();
    // undefined when the process stops before its first config compiled
    this.config?.retire(null);
    return left;
  }
}

/** The largest message any WebSocket route of `config` allows (uWS's ceiling for the listeners). */
function webSocketCeiling(config: GatewayConfig): number {
  let max = WEBSOCKET_DEFAULTS.maxMessageBytes;
  for (const r of config.routes) if (r.websocket?.enabled && r.websocket.maxMessageBytes > max) max = r.websocket.maxMessageBytes;
  return max;
}
