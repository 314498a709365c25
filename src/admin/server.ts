import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Errors, problemBody, type GatewayErrorKind } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { PROMETHEUS_CONTENT_TYPE } from '../observe/prometheus.js';
import { AdminAuth } from './auth.js';
import { ConnectionGate } from './connection-gate.js';
import { ThrottledWarn } from '../core/throttled-warn.js';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from './dashboard/assets.js';

/**
 * The admin listener, in the supervisor process. node:http is enough here:
 * it is the control plane (a few operators and one scraper), not the request
 * path, and it must keep answering while gateway processes restart.
 *
 * Every call needs `Authorization: Bearer <token>`; /events also takes
 * `?token=` because EventSource cannot set headers. The dashboard page and
 * its script and style are the one exception: they are static, carry no data,
 * and the page reads the token from the URL fragment (never sent to a server).
 * Unauthenticated calls get 401 whatever the path, so paths cannot be probed;
 * authenticated calls to unknown paths get 404. Both are logged, without the
 * token or the query string.
 */

export interface ReloadOutcome {
  /** applied: every process runs the new config; rejected: invalid, old config serving; failed: a process refused it; unavailable: nothing to reload. */
  outcome: 'applied' | 'rejected' | 'failed' | 'unavailable';
  generation?: number;
  error?: string;
  processes?: { pid: number | undefined; ok: boolean; error?: string }[];
}

export interface Readiness {
  ready: boolean;
  configured: number;
  up: number;
  listening: number;
}

/** What the admin listener asks of the supervisor. */
export interface AdminBackend {
  readiness(): Readiness;
  /** Prometheus text of fresh, merged metrics. */
  metrics(): Promise<string>;
  stats(): Promise<Record<string, unknown>>;
  /** The running config, already redacted. */
  config(): unknown;
  reload(): Promise<ReloadOutcome>;
  /** Sent to a dashboard when it connects: the ring of windows, alerts, process state. */
  hello(): unknown;
}

export interface AdminOptions {
  host: string;
  port: number;
  token: string;
  log: Logger;
  backend: AdminBackend;
}

/** Dashboards connected at once; more are refused (each costs a socket and a write per second). */
export const MAX_EVENT_CLIENTS = 32;
/** A dashboard that stops reading is cut once this much is queued for it. */
const MAX_QUEUED_BYTES = 1 << 20;
const MAX_BODY_BYTES = 64 * 1024;

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STATIC: Record<string, { type: string; body: string }> = {
  '/dashboard': { type: 'text/html; charset=utf-8', body: DASHBOARD_HTML },
  '/dashboard.js': { type: 'text/javascript; charset=utf-8', body: DASHBOARD_JS },
  '/dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export class AdminServer {
  private readonly server: Server;
  private readonly auth: AdminAuth;
  private readonly clients = new Set<ServerResponse>();
  private readonly routes: Record<string, Record<string, Handler>>;
  private readonly startedAt = Date.now();
  private readonly gate: ConnectionGate;

  constructor(private readonly options: AdminOptions) {
    this.auth = new AdminAuth(options.token);
    const b = options.backend;
    this.routes = {
      '/health': { GET: (_q, r) => this.json(r, 200, { status: 'ok', pid: process.pid, uptimeSec: Math.round((Date.now() - this.startedAt) / 1000) }) },
      '/ready': {
        GET: (_q, r) => {
          const s = b.readiness();
          this.json(r, s.ready ? 200 : 503, s);
        },
      },
      '/metrics': { GET: async (_q, r) => this.send(r, 200, PROMETHEUS_CONTENT_TYPE, await b.metrics()) },
      '/stats': { GET: async (_q, r) => this.json(r, 200, await b.stats()) },
      '/config': { GET: (_q, r) => this.json(r, 200, b.config()) },
      '/reload': {
        POST: async (_q, r) => {
          const o = await b.reload();
          const status = o.outcome === 'applied' ? 200 : o.outcome === 'rejected' ? 422 : o.outcome === 'unavailable' ? 409 : 500;
          this.json(r, status, o);
        },
      },
      '/events': { GET: (q, r) => this.events(q, r) },
    };
    this.server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => this.onRequest(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.keepAliveTimeout = 5_000;
    // Unauthenticated connections are bounded by the gate (per peer, in all, 2 s to authenticate),
    // which closes the oldest first; this is only the ceiling for authenticated ones on top.
    this.server.maxConnections = 512;
    const evictions = new ThrottledWarn(options.log, 'admin: unauthenticated connections closed', 5000);
    this.gate = new ConnectionGate((peer, why) => evictions.hit({ admin: true, from: peer, why, closedTotal: this.gate.evicted }));
    this.server.on('connection', (socket) => this.gate.admit(socket));
  }

  async listen(): Promise<string> {
    this.server.listen(this.options.port, this.options.host);
    await Promise.race([
      once(this.server, 'listening'),
      once(this.server, 'error').then(([err]) => {
        throw err;
      }),
    ]);
    const a = this.server.address() as { address: string; port: number };
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  /** Dashboards connected now. */
  get watchers(): number {
    return this.clients.size;
  }

  /** Pushes an event to every connected dashboard. */
  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) {
      if (res.writableLength > MAX_QUEUED_BYTES) {
        this.options.log.warn({ admin: true }, 'admin: dashboard not reading its events; disconnected');
        res.destroy();
        continue;
      }
      res.write(frame);
    }
  }

  async close(): Promise<void> {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const log = this.options.log;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      return this.problem(res, Errors.BAD_REQUEST);
    }
    const path = url.pathname;
    const from = req.socket.remoteAddress;
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => {
      // No endpoint reads a body; a large one is cut.
      if ((bodyBytes += c.length) > MAX_BODY_BYTES) req.destroy();
    });
    req.on('error', () => {});

    const asset = STATIC[path];
    if (asset && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { ...COMMON_HEADERS, 'content-type': asset.type, 'content-security-policy': PAGE_CSP, 'content-length': Buffer.byteLength(asset.body) });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }

    const refusal = this.auth.refusal(req, url, path === '/events');
    if (refusal !== null) {
      log.warn({ admin: true, method: req.method, path: safePath(path), from, reason: refusal }, 'admin: refused, not authenticated');
      res.setHeader('www-authenticate', 'Bearer realm="ztgate-admin"');
      return this.problem(res, Errors.UNAUTHENTICATED);
    }
    this.gate.authenticated(req.socket);
    const methods = this.routes[path];
    if (!methods) {
      log.warn({ admin: true, method: req.method, path: safePath(path), from }, 'admin: unknown path');
      return this.problem(res, Errors.NOT_FOUND);
    }
    const handler = methods[req.method ?? ''];
    if (!handler) {
      log.warn({ admin: true, method: req.method, path, from }, 'admin: method not allowed');
      res.setHeader('allow', Object.keys(methods).join(', '));
      return this.problem(res, Errors.METHOD_NOT_ALLOWED);
    }
    log.debug({ admin: true, method: req.method, path, from }, 'admin request');
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: Error) => {
        log.error({ admin: true, err, path }, 'admin: handler failed');
        if (!res.headersSent) this.problem(res, Errors.INTERNAL);
        else res.destroy();
      });
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= MAX_EVENT_CLIENTS) {
      this.options.log.warn({ admin: true, clients: this.clients.size }, 'admin: too many dashboards connected; refused');
      return this.problem(res, Errors.CONCURRENCY_LIMITED);
    }
    res.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(this.options.backend.hello())}\n\n`);
    this.clients.add(res);
    req.socket.setTimeout(0);
    const drop = () => this.clients.delete(res);
    res.on('close', drop);
    res.on('error', drop);
  }

  private send(res: ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { ...COMMON_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    this.send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
  }

  private problem(res: ServerResponse, kind: GatewayErrorKind): void {
    this.send(res, kind.status, 'application/problem+json', problemBody(kind, randomUUID()));
  }
}

/** Paths of refused calls are logged cut short and without control characters (they come from anyone). */
function safePath(path: string): string {
  const p = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return p.replace(/[^\x20-\x7e]/g, '?');
}
