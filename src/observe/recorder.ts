import type { Logger } from './log.js';
import type { Counter, Histogram, Metrics } from '../core/metrics.js';
import type { RequestObserver, RequestRecord } from './request-record.js';
import type { AccessLogPolicy } from './schema.js';
import { accessLineWriter } from './access-line.js';

/**
 * Where every finished request goes: one access log line (per the route's
 * policy), the per-route and per-upstream metrics, and the observers
 * (anomaly detection). Runs after the answer left, on the event loop: it must
 * stay cheap (a few map lookups and histogram records) and must never throw
 * into the exchange.
 */
export class RequestRecorder {
  private readonly observers: RequestObserver[] = [];
  private readonly requests: Counter | null;
  private readonly total: Histogram | null;
  private readonly gateway: Histogram | null;
  private readonly upstream: Histogram | null;
  private readonly upstreamTtfb: Histogram | null;
  private readonly upstreamConnect: Histogram | null;
  private readonly stage: Histogram | null;
  private readonly refusals: Counter | null;
  private readonly consumers: Counter | null;
  private readonly bytes: Counter | null;
  private readonly stageRefusals: Counter | null;

  private readonly writeAccessLine: (r: RequestRecord) => void;

  constructor(
    private readonly log: Logger,
    metrics: Metrics | null,
  ) {
    this.writeAccessLine = accessLineWriter(log);
    const m = metrics;
    this.requests = m?.counter('ztgate_requests_total', 'Requests answered, by route and status (status 0: the client left first).', ['route', 'status']) ?? null;
    this.total = m?.histogram('ztgate_request_duration_us', 'Time from request head to last answer byte, by route.', ['route']) ?? null;
    this.gateway = m?.histogram('ztgate_gateway_duration_us', "The gateway's own time (total minus the upstream's), by route.", ['route']) ?? null;
    this.upstream = m?.histogram('ztgate_upstream_duration_us', 'Time from writing the request upstream to its last response byte, by upstream.', ['upstream']) ?? null;
    this.upstreamTtfb = m?.histogram('ztgate_upstream_ttfb_us', "Time from writing the request to the upstream's response head, by upstream.", ['upstream']) ?? null;
    this.upstreamConnect = m?.histogram('ztgate_upstream_connect_us', 'Time to get an upstream connection (pool or connect), by upstream.', ['upstream']) ?? null;
    this.stage = m?.histogram('ztgate_stage_duration_us', 'Time in each stage, by route and stage.', ['route', 'stage']) ?? null;
    this.refusals = m?.counter('ztgate_gateway_answers_total', 'Answers the gateway gave instead of the upstream, by code.', ['code']) ?? null;
    this.consumers = m?.counter('ztgate_consumer_requests_total', 'Requests by verified consumer (top consumers).', ['consumer']) ?? null;
    this.bytes = m?.counter('ztgate_bytes_total', 'Body bytes by route and direction.', ['route', 'direction']) ?? null;
    this.stageRefusals =
      m?.counter('ztgate_stage_refusals_total', 'Requests a stage answered itself (identity failures, limits, threats...), by route, stage, code and why.', ['route', 'stage', 'code', 'why']) ?? null;
  }

  addObserver(observer: RequestObserver): void {
    this.observers.push(observer);
  }

  /** A stage answered in place of the upstream: its error code and its label (a short word from a fixed set). */
  stageRefused(route: string, stage: string, code: string, label: string | undefined): void {
    this.stageRefusals?.inc([route, stage, code, label ?? '']);
  }

  record(r: RequestRecord, accessLog: AccessLogPolicy): void {
    if (accessLog.enabled && (r.status >= 400 || r.status === 0 || accessLog.sample >= 1 || Math.random() < accessLog.sample) && this.log.isLevelEnabled('info')) {
      this.writeAccessLine(r);
    }
    if (this.requests !== null) this.count(r);
    for (const o of this.observers) {
      try {
        o.observe(r);
      } catch (err) {
        this.log.error({ err, reqId: r.id }, 'request observer threw');
      }
    }
  }

  private count(r: RequestRecord): void {
    const route = r.route || '(none)';
    const routeLabel = [route];
    this.requests!.inc([route, String(r.status)]);
    this.total!.recordMs(routeLabel, r.totalMs);
    this.gateway!.recordMs(routeLabel, r.upstreamMs === null ? r.totalMs : Math.max(0, r.totalMs - r.upstreamMs));
    if (r.upstream) {
      const upstreamLabel = [r.upstream];
      if (r.upstreamMs !== null) this.upstream!.recordMs(upstreamLabel, r.upstreamMs);
      if (r.upstreamTtfbMs !== null) this.upstreamTtfb!.recordMs(upstreamLabel, r.upstreamTtfbMs);
      if (r.upstreamConnectMs !== null) this.upstreamConnect!.recordMs(upstreamLabel, r.upstreamConnectMs);
    }
    for (const name in r.stages) this.stage!.recordMs([route, name], r.stages[name]);
    if (r.code !== null) this.refusals!.inc([r.code]);
    if (r.consumer !== null) this.consumers!.inc([r.consumer]);
    if (r.bytesIn > 0) this.bytes!.inc([route, 'in'], r.bytesIn);
    if (r.bytesOut > 0) this.bytes!.inc([route, 'out'], r.bytesOut);
  }
}

