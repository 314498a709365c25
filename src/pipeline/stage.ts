import type { GatewayErrorKind } from '../errors.js';
import type { HeaderList } from './headers.js';
import type { Logger } from 'pino';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { Upstream } from '../upstream/upstream.js';
import type { NormalizeOptions } from '../routing/normalize-path.js';
import type { RequestRecorder, RouteSeries } from '../observe/recorder.js';
import type { AccessLogPolicy } from '../observe/schema.js';
import type { Metrics } from '../core/metrics.js';
import type { TraceSpan } from '../core/trace.js';
import type { ServiceLookup } from './services.js';

/**
 * What a stage sees of a request. Everything was copied out of uWS before the
 * first await, so stages may be asynchronous.
 */
export interface RequestContext {
  readonly id: string;
  readonly method: string;
  /** Normalized path: what the route matched and what is forwarded. */
  path: string;
  /** Raw query string without '?'. */
  query: string;
  /** Client request headers (lowercase names); stages may edit them before forwarding. */
  readonly headers: HeaderList;
  /** Address of the TCP peer, or the client address from trusted proxies. */
  readonly clientAddress: string;
  readonly peerAddress: string;
  readonly listener: ListenerInfo;
  readonly route: CompiledRoute;
  readonly params: Record<string, string> | null;
  /** The whole request body, present only when a stage of the route declared needsRequestBody. */
  body: Buffer | null;
  /** Per-stage scratch space (identity, limits, ...), keyed by stage name. */
  readonly state: Record<string, unknown>;
  /**
   * Headers the gateway itself adds upstream (flat name/value list), written
   * after the client's headers are filtered: verified identity travels here,
   * so a client can never forge it.
   */
  readonly upstreamHeaders: string[];
  /** The client certificate (PEM) on an mTLS listener, or null. */
  peerCertificate(): string | null;
  /** performance.now() when the request head was read. */
  readonly startedAt: number;
  /** The gateway's span in the caller's trace (or a new trace). */
  readonly span: TraceSpan;
  /** Milliseconds per stage that ran, by stage name (request and response hooks added). */
  readonly stageMs: Record<string, number>;
}

/** A stage's answer in place of the upstream's. */
export interface StageReply {
  error: GatewayErrorKind;
  /** Logged, never sent. */
  reason: string;
  /**
   * Why, as a metrics label: a short word from a fixed set (`invalid_token`,
   * a limit's or rule's configured name), never a value from the request.
   */
  label?: string;
  headers?: [string, string][];
  extra?: Record<string, unknown>;
}

export interface ResponseContext {
  status: number;
  readonly headers: HeaderList;
  /** The whole response body, present only when a stage declared needsResponseBody. */
  body: Buffer | null;
}

export type StageResult = StageReply | undefined | void;

/**
 * One step of a route's chain (the shape of an Envoy filter or a Kong plugin):
 * compiled once from config, then asked about every request of its routes.
 * A stage returns nothing to pass the request on, or a reply to answer it.
 */
export interface Stage {
  readonly name: string;
  readonly needsRequestBody?: boolean;
  readonly needsResponseBody?: boolean;
  onRequest?(ctx: RequestContext): StageResult | Promise<StageResult>;
  onResponse?(ctx: RequestContext, response: ResponseContext): void | Promise<void>;
  /**
   * The exchange ended: answered, failed or abandoned by the client (Kong's log
   * phase). Called for every stage of the route that has it, even when an
   * earlier stage answered, so a stage releases only what it took.
   */
  onDone?(ctx: RequestContext, status: number): void;
}

/** What a stage's compile step may use: the whole config and the process's shared services. */
export interface StageContext {
  readonly config: GatewayConfig;
  readonly log: Logger;
  /**
   * Shared services by key, provided by the features that own them (the
   * identity runtime, the rate limiter, alert sanctions): see services.ts.
   */
  readonly services: ServiceLookup;
  /** Worker-pool threads per process for CPU-heavy stages (ZTGATE_WORKERS). */
  readonly workers: number;
  /** Gateway processes sharing the work (ZTGATE_PROCESSES). */
  readonly processes: number;
  /** The process's metrics registry (counters survive config reloads). */
  readonly metrics: Metrics;
}

/** A stage type: its config schema (JSON Schema, published in config.schema.json) and its compiler. */
export interface StageFactory {
  readonly type: string;
  readonly schema: Record<string, unknown>;
  /** Cross-checks against the rest of the config at load; returns `field: reason` issues. */
  validate?(options: Record<string, unknown>, config: GatewayConfig): string[];
  compile(options: Record<string, unknown>, context: StageContext): Stage;
}

/** What a request knows of the listener it arrived on. */
export interface ListenerInfo {
  readonly name: string;
  readonly segment: string;
  readonly scheme: 'http' | 'https';
  /** Client certificates are requested and verified (a CA is configured). */
  readonly mtls: boolean;
}

/**
 * Asked before any stage of the route, public routes included: a refusal of
 * the caller as such (a network an alert rule blocked). Null when nothing can refuse.
 */
export type Admission = (clientAddress: string) => StageReply | undefined;

/** A route of one config generation: its stage chain compiled, its upstream bound. */
export interface CompiledRoute {
  readonly name: string;
  readonly config: RouteConfig;
  readonly upstream: Upstream;
  readonly stages: readonly Stage[];
  /** The first entry of the chain: see Admission. */
  readonly admission: Admission | null;
  /** Hooks pre-filtered so the hot path does not test every stage. */
  readonly requestStages: readonly Stage[];
  readonly responseStages: readonly Stage[];
  readonly doneStages: readonly Stage[];
  readonly needsRequestBody: boolean;
  readonly needsResponseBody: boolean;
  readonly maxBodyBytes: number;
  readonly preserveHost: boolean;
  readonly pathOptions: NormalizeOptions;
  /** Client headers never forwarded (config identity.stripHeaders). */
  readonly stripHeaders: ReadonlySet<string>;
  readonly accessLog: AccessLogPolicy;
  readonly recorder: RequestRecorder;
  /** The route's metric series, bound at compile (see RouteSeries). */
  readonly series: RouteSeries;
}
