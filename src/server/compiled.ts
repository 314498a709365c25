import { BlockList } from 'node:net';
import type { UnderscorePolicy } from './client-headers.js';
import type { GatewayConfig, ListenerConfig, RouteConfig } from '../config/types.js';
import { addCidr } from '../core/cidr.js';
import type { Router } from '../routing/router.js';
import { buildRouters } from '../routing/route-table.js';
import { internalRoutes, type InternalRoute } from './internal-routes.js';
import { stageFactoryByType, stageFactories } from '../pipeline/registry.js';
import type { CompiledRoute, ListenerInfo, StageContext } from '../pipeline/stage.js';
import { Services } from '../pipeline/services.js';
import { IDENTITY_RUNTIME, IdentityRuntime } from '../identity/runtime.js';
import { RATE_LIMITER, type DistributedLimiter } from '../ratelimit/limiter.js';
import { networkAdmission, SANCTIONS, type Sanctions } from '../observe/anomaly/sanctions.js';
import type { Logger } from '../observe/log.js';
import { Upstream } from '../upstream/upstream.js';
import type { NormalizeOptions } from '../routing/normalize-path.js';
import type { Metrics } from '../core/metrics.js';
import type { RequestObserver } from '../observe/request-record.js';
import { RequestRecorder } from '../observe/recorder.js';
import { scrubString } from '../protect/log-scrub.js';
import { OtlpExporter } from '../observe/otlp.js';
import { OtlpMetricsExporter } from '../observe/otlp-metrics.js';
import { resolveSecret, type SecretRef } from '../core/secrets.js';
import { STATE_STORE, type StateStore } from '../state/store.js';

/** What lives as long as the process, across config generations. */
export interface ProcessServices {
  readonly log: Logger;
  /** Worker-pool threads for CPU-heavy stages (ZTGATE_WORKERS). */
  readonly workers: number;
  readonly processes: number;
  readonly rateLimiter: DistributedLimiter;
  readonly metrics: Metrics;
  /** What the alert rules imposed (blocked or tightened consumers and networks). */
  readonly sanctions: Sanctions;
  /** Told of every finished request (anomaly detection); registered with each generation's recorder. */
  readonly observers: readonly RequestObserver[];
  /** The state store (src/state), created once per process from the first config's state section. */
  readonly stateStore?: StateStore | null;
}

/**
 * A loaded config turned into immutable route tables, stage instances and
 * upstream pools. A reload builds a new one and swaps one reference; requests
 * in flight keep the generation they started with.
 */
export class CompiledConfig {
  /** One route table per listener name. */
  readonly routers: ReadonlyMap<string, Router<CompiledRoute>>;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly trustedProxies: BlockList | null;
  readonly maxUrlBytes: number;
  /** Header names with an underscore: dropped, refused or kept. */
  readonly underscores: UnderscorePolicy;
  /** Strip the method-override headers. */
  readonly stripMethodOverride: boolean;
  /**
   * Path rules loose enough for every route, used to find the route; the
   * route's own rules are then applied. Shared with routes that use the
   * same rules, so the common case (all default) normalizes once.
   */
  readonly loosestPathOptions: NormalizeOptions;
  /** Access log, metrics and observers of finished requests. */
  readonly recorder: RequestRecorder;
  /** The gateway's own endpoints (the signer's JWKS), asked before the routers; null when none. */
  readonly internalRoutes: Router<InternalRoute> | null;
  /** Share of new traces sampled (0 without a trace collector). */
  readonly traceSample: number;
  private readonly exporter: OtlpExporter | null;
  private readonly metricsExporter: OtlpMetricsExporter | null;

  private constructor(
    readonly source: GatewayConfig,
    readonly identity: IdentityRuntime | null,
    services: ProcessServices,
  ) {
    const shared = new Services().set(RATE_LIMITER, services.rateLimiter).set(SANCTIONS, services.sanctions);
    if (identity) shared.set(IDENTITY_RUNTIME, identity);
    if (services.stateStore) shared.set(STATE_STORE, services.stateStore);
    const context: StageContext = {
      config: source,
      log: services.log,
      services: shared,
      workers: services.workers,
      processes: services.processes,
      metrics: services.metrics,
    };
    this.recorder = new RequestRecorder(services.log, source.observe.metrics ? services.metrics : null, scrubString);
    for (const o of services.observers) this.recorder.addObserver(o);
    const otlp = source.observe.tracing.otlp;
    this.traceSample = otlp ? source.observe.tracing.sample : 0;
    if (otlp) {
      const headers = resolveHeaders(otlp.headers, 'observe.tracing.otlp.headers');
      const spans = services.metrics.counter('ztgate_trace_spans_total', 'Spans sent to the trace collector, by outcome.', ['outcome']);
      this.exporter = new OtlpExporter({ ...otlp, headers }, services.log, spans);
      this.recorder.addObserver(this.exporter);
    } else {
      this.exporter = null;
    }
    const otlpMetrics = source.observe.otlpMetrics;
    this.metricsExporter = otlpMetrics
      ? new OtlpMetricsExporter({ ...otlpMetrics, headers: resolveHeaders(otlpMetrics.headers, 'observe.otlpMetrics.headers') }, services.log)
      : null;
    if (this.metricsExporter) this.recorder.addObserver(this.metricsExporter);
    const upstreams = new Map<string, Upstream>();
    for (const u of source.upstreams) upstreams.set(u.name, new Upstream(u, services));
    this.upstreams = upstreams;
    const strict: NormalizeOptions = { allowSemicolon: false, allowEncodedSlash: false };
    const loosest: NormalizeOptions = {
      allowSemicolon: source.routes.some((r) => r.path.allowSemicolon),
      allowEncodedSlash: source.routes.some((r) => r.path.allowEncodedSlash),
    };
    const common = [strict, loosest];
    // Identical options share one object so the handler compares references.
    const pathOptionsOf = (r: RouteConfig) =>
      common.find((o) => o.allowSemicolon === r.path.allowSemicolon && o.allowEncodedSlash === r.path.allowEncodedSlash) ??
      { allowSemicolon: r.path.allowSemicolon, allowEncodedSlash: r.path.allowEncodedSlash };
    this.loosestPathOptions = loosest.allowSemicolon || loosest.allowEncodedSlash ? loosest : strict;
    const strip = new Set(source.identity.stripHeaders);
    this.internalRoutes = internalRoutes(identity?.signer ?? null);
    const admission = networkAdmission(services.sanctions);
    this.routers = buildRouters(source, (r) => compileRoute(r, upstreams, pathOptionsOf(r), context, strip, this.recorder, admission));
    if (source.trustedProxies.length > 0) {
      const list = new BlockList();
      for (const p of source.trustedProxies) addCidr(list, p);
      this.trustedProxies = list;
    } else {
      this.trustedProxies = null;
    }
    this.maxUrlBytes = source.limits.maxUrlBytes;
    this.underscores = source.clientHeaders.underscores;
    this.stripMethodOverride = source.clientHeaders.methodOverride === 'strip';
  }

  /**
   * Builds a generation. The identity runtime (keys, caches, worker pool) of
   * `previous` is kept when the identity section did not change.
   */
  static async create(source: GatewayConfig, services: ProcessServices, previous: CompiledConfig | null): Promise<CompiledConfig> {
    const id = source.identity;
    let identity: IdentityRuntime | null = null;
    if (id.issuers.length + id.consumers.length + id.introspection.length > 0) {
      if (previous?.identity && previous.identity.key === JSON.stringify(id)) {
        identity = previous.identity;
      } else {
        identity = new IdentityRuntime(id, services.workers, services.log);
        await identity.start();
      }
    }
    return new CompiledConfig(source, identity, services);
  }

  /** Closes idle upstream connections now, busy ones when their request ends; frees identity services `next` does not share. */
  retire(next: CompiledConfig | null): void {
    for (const u of this.upstreams.values()) u.retire();
    if (this.identity && this.identity !== next?.identity) void this.identity.close();
    // Spans of requests still in flight on this generation are dropped; what waits is sent.
    void this.exporter?.close();
    void this.metricsExporter?.close();
  }
}

function compileRoute(
  r: RouteConfig,
  upstreams: Map<string, Upstream>,
  pathOptions: NormalizeOptions,
  context: StageContext,
  stripHeaders: ReadonlySet<string>,
  recorder: RequestRecorder,
  admission: CompiledRoute['admission'],
): CompiledRoute {
  // Stages run in the registry's fixed order (identity before limits before
  // inspection...), whatever order the config lists them in.
  const rank = (type: string) => stageFactories.findIndex((f) => f.type === type);
  const stages = [...r.stages]
    .sort((a, b) => rank(a.type) - rank(b.type))
    .map((s) => stageFactoryByType.get(s.type)!.compile(s, context));
  return {
    name: r.name,
    config: r,
    upstream: upstreams.get(r.upstream)!,
    stages,
    admission,
    requestStages: stages.filter((s) => s.onRequest),
    responseStages: stages.filter((s) => s.onResponse),
    doneStages: stages.filter((s) => s.onDone),
    needsRequestBody: stages.some((s) => s.needsRequestBody),
    needsResponseBody: stages.some((s) => s.needsResponseBody),
    maxBodyBytes: r.maxBodyBytes,
    preserveHost: r.preserveHost,
    pathOptions,
    stripHeaders,
    accessLog: { ...context.config.observe.accessLog, ...r.accessLog },
    recorder,
    series: recorder.seriesOf(r.name),
  };
}

export function listenerInfo(l: ListenerConfig): ListenerInfo {
  return { name: l.name, segment: l.segment, scheme: l.tls ? 'https' : 'http', mtls: !!l.tls?.clientCa };
}

/** A collector's header values, read from their secret references; a bad one names its place. */
function resolveHeaders(refs: Record<string, SecretRef>, at: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, ref] of Object.entries(refs)) {
    try {
      headers[name] = resolveSecret(ref);
    } catch (err) {
      throw new Error(`${at}.${name}: ${(err as Error).message}`);
    }
  }
  return headers;
}
