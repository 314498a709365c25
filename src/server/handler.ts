import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { Errors, type GatewayError, type GatewayErrorKind } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { HeaderList } from '../pipeline/headers.js';
import type { ListenerInfo, RequestContext, StageReply } from '../pipeline/stage.js';
import { runRequestStages, type StagedRequest } from '../pipeline/run.js';
import { normalizePath } from '../routing/normalize-path.js';
import { clientAddressOf } from '../proxy/forward-headers.js';
import { Exchange, type ExchangeHost } from '../proxy/exchange.js';
import type { BodyFraming } from '../proxy/forward-headers.js';
import type { CompiledConfig } from './compiled.js';
import { writeProblem } from '../pipeline/respond.js';
import type { HttpResponseWithCert } from './uws.js';
import type { RequestRecord } from '../observe/request-record.js';
import { startSpan, type TraceSpan } from '../core/trace.js';
import { inBlockList as isTrusted } from '../core/cidr.js';
import { HOST_VALUE, METHOD_OVERRIDE_HEADERS, SPOOFABLE_HEADERS } from './client-headers.js';

/** What the handler needs of its process. */
export interface HandlerHost {
  readonly log: Logger;
  /** The config generation new requests use; swapped on reload. */
  current(): CompiledConfig;
  readonly draining: boolean;
  track(exchange: Exchange): void;
  untrack(exchange: Exchange): void;
}

const textDecoder = new TextDecoder();
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// A token without lowercase: an upstream that folds case would otherwise run
// `delete` as DELETE after the router matched it as some other method.
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Z-]{1,32}$/;

/**
 * What the intake hands on: a request copied out of uWS, its framing checked,
 * its path normalized and its route found. `admit` runs synchronously inside
 * the uWS handler, so it must attach onAborted (and onData) before returning.
 */
export type Admit<C> = (res: HttpResponse, ctx: RequestContext, framing: BodyFraming, config: CompiledConfig, context: C) => void;

/**
 * The uWS route handler for one listener: an HTTP request goes on as an
 * Exchange. Everything is read from the uWS request before anything
 * asynchronous happens (uWS frees it on return), the abort handler is
 * attached at once, and onData is registered synchronously.
 */
export function createHandler(host: HandlerHost, listener: ListenerInfo): (res: HttpResponse, req: HttpRequest) => void {
  // uWS closes the connection (and aborts the response) when it parses a second request of the
  // same read while the first is unanswered: a request whose answer is lost that way must not
  // have been forwarded. So the stages run at once (a refusal they answer in time keeps a
  // pipeline going, as before), but forwarding waits until the read is parsed: the forwards of
  // one event-loop turn go in one setImmediate (uWS.js drains microtasks after each handler
  // call, before it parses on: a microtask is too early). An exchange that ended meanwhile
  // (aborted, body over its limit) has left `waiting` and is never forwarded.
  const waiting = new Set<Exchange>();
  let scheduled = false;
  const forwardWaiting = () => {
    scheduled = false;
    for (const exchange of waiting) {
      waiting.delete(exchange);
      exchange.forward();
    }
  };
  const forwardLater = (exchange: Exchange) => {
    waiting.add(exchange);
    if (!scheduled) {
      scheduled = true;
      setImmediate(forwardWaiting);
    }
  };
  // One per listener, not per request.
  const exchangeHost: ExchangeHost = {
    log: host.log,
    done: (e) => {
      waiting.delete(e);
      host.untrack(e);
    },
  };
  return createIntake<undefined>(host, listener, (res, ctx, framing, config) => {
    const exchange = new Exchange(res, ctx, exchangeHost, config.trustedProxies, framing);
    host.track(exchange);
    res.onAborted(() => exchange.onAborted());
    if (framing !== 0) res.onData((chunk, isLast) => exchange.onClientData(chunk, isLast));
    runRequestStages(new ForwardAfterRead(exchange, forwardLater), host.log);
  });
}

/** The exchange as the stage runner sees it, with `forward` put off until uWS parsed the read. */
class ForwardAfterRead implements StagedRequest {
  constructor(
    private readonly exchange: Exchange,
    private readonly forwardLater: (exchange: Exchange) => void,
  ) {}

  get ctx(): RequestContext {
    return this.exchange.ctx;
  }

  get aborted(): boolean {
    return this.exchange.aborted;
  }

  collectBody(): Promise<Buffer> {
    return this.exchange.collectBody();
  }

  reply(reply: StageReply): void {
    this.exchange.reply(reply);
  }

  forward(): void {
    this.forwardLater(this.exchange);
  }

  fail(error: GatewayError, closeClient: boolean): void {
    this.exchange.fail(error, closeClient);
  }
}

/**
 * The intake every request goes through, HTTP or WebSocket handshake (uWS
 * passes the handshake's socket context as `context`): copy, framing, path,
 * route. Refusals are answered here; what passes goes to `admit`.
 */
export function createIntake<C>(host: HandlerHost, listener: ListenerInfo, admit: Admit<C>): (res: HttpResponse, req: HttpRequest, context?: C) => void {
  return (res, req, context) => {
    const startedAt = performance.now();
    const method = req.getCaseSensitiveMethod();
    const url = req.getUrl();
    const query = req.getQuery() ?? '';
    const raw: string[] = [];
    let contentLengths = 0;
    let contentLength = '';
    let transferEncoding: string | undefined;
    let teCount = 0;
    let hostCount = 0;
    let xff: string | undefined;
    let requestId: string | undefined;
    let traceparent: string | undefined;
    let hostValue = '';
    let underscored: string | undefined;
    const peer = textDecoder.decode(res.getRemoteAddressAsText());
    const config = host.current();
    const fromTrustedProxy = config.trustedProxies !== null && isTrusted(config.trustedProxies, peer);
    const underscores = config.underscores;
    const stripMethodOverride = config.stripMethodOverride;
    req.forEach((name, value) => {
      switch (name) {
        case 'content-length':
          contentLengths++;
          contentLength = value;
          break;
        case 'transfer-encoding':
          teCount++;
          transferEncoding = value;
          break;
        case 'host':
          hostCount++;
          hostValue = value;
          break;
        case 'x-forwarded-for':
          xff = xff === undefined ? value : `${xff}, ${value}`;
          break;
        case 'x-request-id':
          requestId = value;
          break;
        case 'expect':
          // uWS has already answered 100-continue (before this handler runs): the expectation
          // belongs to this hop, and an upstream told of it would answer a 100 of its own.
          return;
        case 'traceparent':
          traceparent = traceparent === undefined ? value : ''; // two of them: invalid, restart the trace
          break;
        default:
          // What backends would read as identity, client address, URL or method, the gateway
          // did not vouch for: gone before any stage or the upstream sees it.
          if (underscores !== 'allow' && name.includes('_')) {
            underscored ??= name;
            return;
          }
          if (!fromTrustedProxy && SPOOFABLE_HEADERS.has(name)) return;
          if (stripMethodOverride && METHOD_OVERRIDE_HEADERS.has(name)) return;
      }
      raw.push(name, value);
    });
    const id = requestId !== undefined && REQUEST_ID.test(requestId) ? requestId : randomUUID();
    const span = startSpan(traceparent, config.traceSample);

    // Requests refused before a route is known are answered here, in the handler (uWS corks it).
    const refuse = (kind: GatewayErrorKind, reason: string, headers?: [string, string][]) => {
      host.log.info({ reqId: id, listener: listener.name, peer, status: kind.status, code: kind.code, reason }, kind.title);
      config.recorder.record(refusalRecord(id, listener.name, method, clientAddressOf(peer, xff, config.trustedProxies), kind, startedAt, span), config.source.observe.accessLog);
      // Close when a body may follow that we will not read.
      if (!(contentLengths > 0 || teCount > 0 || host.draining)) return writeProblem(res, kind, id, { headers });
      // uWS goes on parsing the rest of this read even after a closing answer, so bytes sent
      // after a refused head (a smuggled request behind a bad Content-Length) would be served.
      // Answer once the read is parsed: uWS aborts a pending answer when a request follows it.
      let aborted = false;
      res.onAborted(() => (aborted = true));
      setImmediate(() => {
        if (!aborted) res.cork(() => writeProblem(res, kind, id, { headers, close: true }));
      });
    };

    if (host.draining) return refuse(Errors.SHUTTING_DOWN, 'draining');
    if (url.length + query.length > config.maxUrlBytes) return refuse(Errors.URI_TOO_LONG, `url of ${url.length + query.length} bytes`);
    if (!METHOD.test(method)) return refuse(Errors.BAD_REQUEST, 'invalid method token');
    if (hostCount !== 1) return refuse(Errors.BAD_HEADER, `${hostCount} Host headers`);
    if (!HOST_VALUE.test(hostValue)) return refuse(Errors.BAD_HEADER, hostValue.includes('@') ? 'userinfo in Host' : 'invalid Host');
    if (underscored !== undefined) {
      if (underscores === 'reject') return refuse(Errors.BAD_HEADER, `underscore in header name ${underscored.slice(0, 64)}`);
      host.log.debug({ reqId: id, listener: listener.name, peer, header: underscored.slice(0, 64) }, 'header with underscore dropped');
    }

    // Framing must be unambiguous before anything is forwarded (RFC 9112 §6.3).
    let framing: BodyFraming = 0;
    if (teCount > 0) {
      if (contentLengths > 0) return refuse(Errors.BAD_FRAMING, 'both Transfer-Encoding and Content-Length');
      if (teCount > 1 || transferEncoding!.trim().toLowerCase() !== 'chunked') {
        return refuse(Errors.BAD_FRAMING, `unsupported Transfer-Encoding "${transferEncoding!.slice(0, 64)}"`);
      }
      framing = 'chunked';
    } else if (contentLengths > 0) {
      if (contentLengths > 1) return refuse(Errors.BAD_FRAMING, `${contentLengths} Content-Length headers`);
      if (!/^[0-9]{1,15}$/.test(contentLength)) return refuse(Errors.BAD_FRAMING, 'invalid Content-Length');
      framing = Number(contentLength);
    }

    const normalized = normalizePath(url, config.loosestPathOptions);
    if (!normalized.ok) return refuse(Errors.BAD_PATH, normalized.reason);
    const headers = new HeaderList(raw);
    if (config.internalRoutes !== null) {
      const internal = config.internalRoutes.lookup('', method, normalized.path);
      if (internal.kind === 'found') return internal.value.serve(res, method);
    }
    const lookup = config.routers.get(listener.name)!.lookup(headers.get('host')!, method, normalized.path);
    if (lookup.kind === 'not-found') return refuse(Errors.NOT_FOUND, `no route for ${method} ${normalized.path.slice(0, 256)}`);
    if (lookup.kind === 'method-not-allowed') {
      return refuse(Errors.METHOD_NOT_ALLOWED, `${method} not allowed`, [['allow', lookup.allow.join(', ')]]);
    }
    const route = lookup.value;
    // Some route loosened path rules (e.g. allowing ';'): hold this route to its own.
    let path = normalized.path;
    if (config.loosestPathOptions !== route.pathOptions) {
      const again = normalizePath(url, route.pathOptions);
      if (!again.ok) return refuse(Errors.BAD_PATH, again.reason);
      path = again.path;
    }
    if (typeof framing === 'number' && framing > route.maxBodyBytes) {
      return refuse(Errors.BODY_TOO_LARGE, `Content-Length ${framing} over ${route.maxBodyBytes}`);
    }

    const ctx: RequestContext = {
      id,
      method,
      path,
      query,
      headers,
      clientAddress: clientAddressOf(peer, xff, config.trustedProxies),
      peerAddress: peer,
      listener,
      route,
      params: lookup.params,
      body: null,
      state: {},
      upstreamHeaders: [],
      peerCertificate: listener.mtls ? () => peerCertificateOf(res) : noCertificate,
      startedAt,
      span,
      stageMs: {},
    };
    admit(res, ctx, framing, config, context as C);
  };
}

const noCertificate = () => null;

/** What a request refused before routing leaves for the access log and metrics (its path is not logged: it may be the attack). */
function refusalRecord(id: string, listener: string, method: string, client: string, kind: GatewayErrorKind, startedAt: number, span: TraceSpan): RequestRecord {
  return {
    id,
    time: Date.now(),
    listener,
    route: '',
    upstream: '',
    method: method.length <= 32 ? method : method.slice(0, 32),
    path: '',
    status: kind.status,
    code: kind.code,
    consumer: null,
    clientAddress: client,
    bytesIn: 0,
    bytesOut: 0,
    totalMs: performance.now() - startedAt,
    upstreamMs: null,
    upstreamTtfbMs: null,
    upstreamConnectMs: null,
    stages: NO_STAGES,
    span,
  };
}

const NO_STAGES: Record<string, number> = Object.freeze({}) as Record<string, number>;

/** The verified client certificate as PEM (uWS verified it against the listener's CA in the handshake). */
function peerCertificateOf(res: HttpResponse): string | null {
  const cert = (res as HttpResponseWithCert).getX509Certificate();
  const pem = typeof cert === 'string' ? cert : Buffer.from(cert).toString('latin1');
  return pem.includes('-----BEGIN CERTIFICATE-----') ? pem : null;
}
