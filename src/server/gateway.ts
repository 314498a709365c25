import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { loadUws } from './uws.js';
import { createHandler, type HandlerHost } from './handler.js';
import { CompiledConfig, listenerInfo, type ProcessServices } from './compiled.js';
import type { GatewayConfig, ListenerConfig } from '../config/types.js';
import { resolveSecret } from '../config/secrets.js';
import type { Logger } from '../observe/log.js';
import type { Exchange } from '../proxy/exchange.js';

/**
 * One gateway process: every configured listener (the kernel spreads
 * connections over processes through SO_REUSEPORT), one current config
 * generation, and the set of requests in flight for draining.
 */
export class Gateway implements HandlerHost {
  draining = false;
  private config!: CompiledConfig;
  private readonly inFlight = new Set<Exchange>();
  private readonly sockets: us_listen_socket[] = [];
  private drained: (() => void) | null = null;
  private readonly listenerKey: string;

  constructor(
    readonly log: Logger,
    private readonly services: ProcessServices,
    private readonly initial: GatewayConfig,
  ) {
    this.listenerKey = JSON.stringify(initial.listeners);
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
    const handler = createHandler(this, listenerInfo(l));
    if (!l.tls) return uws.App().any('/*', handler);
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
    const app = uws.SSLApp(options(first)).any('/*', handler);
    // Further certificates are chosen by SNI; the first is the default.
    for (const c of others) {
      for (const name of c.serverNames ?? []) {
        app.addServerName(name, options(c));
        app.domain(name).any('/*', handler);
      }
    }
    return app;
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
    return { listenersChanged: JSON.stringify(config.listeners) !== this.listenerKey };
  }

  /** SIGTERM: stop accepting, let requests in flight finish until the deadline. */
  async drain(deadlineMs: number): Promise<number> {
    this.draining = true;
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
    for (const e of [...this.inFlight]) e.onAborted();
    this.config.retire(null);
    return left;
  }
}
