import type { Logger } from './log.js';
import type { JsHistogram } from 'hdr-histogram-js';
import { recordMs, type Counter, type Histogram, type Metrics } from '../core/metrics.js';
import type { RequestObserver, RequestRecord } from './request-record.js';
import type { AccessLogPolicy } from './schema.js';
import { accessLineWriter, type Scrub } from './access-line.js';

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
  private readonly cuts: Counter | null;
  private readonly consumers: Counter | null;
  private readonly bytes: Counter | null;
  private readonly stageRefusals: Counter | null;

  private readonly writeAccessLine: (r: RequestRecord) => void;

  /** Series of requests refused before a route matched. */
  private readonly unrouted: RouteSeries;

  constructor(
    private readonly log: Logger,
    metrics: Metrics | null,
    /** What the access line's path goes through (personal data replaced), given by the assembly. */
    scrub: Scrub,
  ) {
    this.writeAccessLine = accessLineWriter(log, scrub);
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
    this.cuts = m?.counter('ztgate_responses_cut_total', 'Answers cut short after part of them had left (the client got a status, then a closed connection), by route and reason.', ['route', 'reason']) ?? null;
    this.unrouted = new RouteSeries('(none)');
  }

  /** The series of one route, bound when the route is compiled (resolved on its first finished request). */
  seriesOf(route: string): RouteSeries {
    return new RouteSeries(route || '(none)');
  }

  addObserver(observer: RequestObserver): void {
    this.observers.push(observer);
  }

  /** A stage answered in place of the upstream: its error code and its label (a short word from a fixed set). */
  stageRefused(route: string, stage: string, code: string, label: string | undefined): void {
    this.stageRefusals?.inc([route, stage, code, label ?? '']);
  }

  /** A finished request; `series` is its route's (seriesOf), none for a request refused before routing. */
  record(r: RequestRecord, accessLog: AccessLogPolicy, series: RouteSeries = this.unrouted): void {
    if (accessLog.enabled && (r.status >= 400 || r.status === 0 || r.cut !== undefined || accessLog.sample >= 1 || Math.random() < accessLog.sample) && this.log.isLevelEnabled('info')) {
      this.writeAccessLine(r);
    }
    if (this.requests !== null) this.count(r, series);
    for (const o of this.observers) {
      try {
        o.observe(r);
      } catch (err) {
        this.log.error({ err, reqId: r.id }, 'request observer threw');
      }
    }
  }

  private count(r: RequestRecord, s: RouteSeries): void {
    const route = s.route;
    let status = s.byStatus.get(r.status);
    if (status === undefined) {
      status = this.requests!.at([route, String(r.status)]);
      if (s.byStatus.size < MAX_STATUSES) s.byStatus.set(r.status, status);
    }
    status.n++;
    recordMs((s.total ??= this.total!.at([route])), r.totalMs);
    recordMs((s.gateway ??= this.gateway!.at([route])), r.upstreamMs === null ? r.totalMs : Math.max(0, r.totalMs - r.upstreamMs));
    if (r.upstream) {
      let u = s.upstream;
      if (u === null || u.name !== r.upstream) {
        const label = [r.upstream];
        s.upstream = u = { name: r.upstream, total: this.upstream!.at(label), ttfb: this.upstreamTtfb!.at(label), connect: this.upstreamConnect!.at(label) };
      }
      if (r.upstreamMs !== null) recordMs(u.total, r.upstreamMs);
      if (r.upstreamTtfbMs !== null) recordMs(u.ttfb, r.upstreamTtfbMs);
      if (r.upstreamConnectMs !== null) recordMs(u.connect, r.upstreamConnectMs);
    }
    for (const name in r.stages) {
      let h = s.stages.get(name);
      // Stage names come from the registry, a fixed set: the map stays small.
      if (h === undefined) s.stages.set(name, (h = this.stage!.at([route, name])));
      recordMs(h, r.stages[name]);
    }
    if (r.code !== null) this.refusals!.inc([r.code]);
    if (r.cut !== undefined) this.cuts!.inc([route, r.cut]);
    if (r.consumer !== null) this.consumers!.inc([r.consumer]);
    if (r.bytesIn > 0) (s.bytesIn ??= this.bytes!.at([route, 'in'])).n += r.bytesIn;
    if (r.bytesOut > 0) (s.bytesOut ??= this.bytes!.at([route, 'out'])).n += r.bytesOut;
  }
}

/** Statuses a route keeps bound; any other is looked up per request (a route answers with a handful). */
const MAX_STATUSES = 64;

/**
 * One route's metric series, bound to the route when it is compiled: per
 * request the recorder makes no label array and no series key. Each series is
 * resolved on first use, so a route never used, or a direction no byte took,
 * shows no series, as before.
 */
export class RouteSeries {
  total: JsHistogram | null = null;
  gateway: JsHistogram | null = null;
  bytesIn: { n: number } | null = null;
  bytesOut: { n: number } | null = null;
  readonly byStatus = new Map<number, { n: number }>();
  readonly stages = new Map<string, JsHistogram>();
  /** A route forwards to one upstream: its series, for the name last seen. */
  upstream: { readonly name: string; readonly total: JsHistogram; readonly ttfb: JsHistogram; readonly connect: JsHistogram } | null = null;

  constructor(readonly route: string) {}
}
