import { randomUUID } from 'node:crypto';
import type { Logger } from './log.js';
import type { RequestObserver, RequestRecord } from './request-record.js';

export interface OtlpMetricsConfig {
  /** OTLP/HTTP metrics endpoint, e.g. http://collector:4318/v1/metrics. */
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
  /** How often the cumulative histograms are sent. */
  intervalMs: number;
  timeoutMs: number;
  /** Attribute sets kept at most; beyond them requests count under http.route `_other`. */
  maxSeries: number;
}

/** OpenTelemetry's default explicit bucket bounds for http.server.request.duration, in seconds. */
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

interface Series {
  route: string;
  method: string;
  status: number;
  counts: number[];
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * OpenTelemetry's HTTP server metric, `http.server.request.duration` (seconds, by `http.route`,
 * `http.request.method` and `http.response.status_code`), exported over OTLP/HTTP (JSON) as a
 * cumulative explicit-bucket histogram every `intervalMs`: the name and buckets OpenTelemetry's
 * semantic conventions give, so a collector's HTTP dashboards read the gateway like any server.
 * Bounded (`maxSeries`); one POST at a time; a failed export is logged once a minute and the
 * counts are sent again, whole, with the next one.
 */
export class OtlpMetricsExporter implements RequestObserver {
  private readonly series = new Map<string, Series>();
  private readonly startNs = BigInt(Date.now()) * 1_000_000n;
  /** Each process (and config generation) is its own cumulative stream: a collector adds them up. */
  private readonly instanceId = randomUUID();
  private readonly timer: NodeJS.Timeout;
  private sending = false;
  private lastComplaint = 0;
  exports = 0;

  constructor(
    private readonly config: OtlpMetricsConfig,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.export(), config.intervalMs);
    this.timer.unref();
  }

  observe(r: RequestRecord): void {
    const route = r.route ?? '';
    let key = `${route}\u0000${r.method}\u0000${r.status}`;
    let s = this.series.get(key);
    if (!s) {
      const full = this.series.size >= this.config.maxSeries;
      if (full) key = `_other\u0000${r.method}\u0000${r.status}`;
      s = this.series.get(key);
      if (!s) {
        s = { route: full ? '_other' : route, method: r.method, status: r.status, counts: new Array(BOUNDS.length + 1).fill(0), count: 0, sum: 0, min: Infinity, max: 0 };
        this.series.set(key, s);
      }
    }
    const seconds = r.totalMs / 1000;
    let i = 0;
    while (i < BOUNDS.length && seconds > BOUNDS[i]!) i++;
    s.counts[i]!++;
    s.count++;
    s.sum += seconds;
    if (seconds < s.min) s.min = seconds;
    if (seconds > s.max) s.max = seconds;
  }

  /** Sends the last counts and stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.export();
  }

  private async export(): Promise<void> {
    if (this.sending || this.series.size === 0) return;
    this.sending = true;
    try {
      const res = await fetch(this.config.endpoint, {
        method: 'POST',
        headers: { ...this.config.headers, 'content-type': 'application/json' },
        body: JSON.stringify(this.payload()),
        signal: AbortSignal.timeout(this.config.timeoutMs),
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) this.exports++;
      else this.complain(`collector answered ${res.status}`);
    } catch (err) {
      this.complain((err as Error).message);
    } finally {
      this.sending = false;
    }
  }

  private payload(): object {
    const now = (BigInt(Date.now()) * 1_000_000n).toString();
    const start = this.startNs.toString();
    const dataPoints = [...this.series.values()].map((s) => ({
      attributes: [
        // A request refused before routing has no route: the attribute is left out, as the conventions ask.
        ...(s.route ? [{ key: 'http.route', value: { stringValue: s.route } }] : []),
        { key: 'http.request.method', value: { stringValue: s.method } },
        { key: 'http.response.status_code', value: { intValue: String(s.status) } },
      ],
      startTimeUnixNano: start,
      timeUnixNano: now,
      count: String(s.count),
      sum: s.sum,
      min: s.min,
      max: s.max,
      bucketCounts: s.counts.map(String),
      explicitBounds: BOUNDS,
    }));
    return {
      resourceMetrics: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: this.config.serviceName } },
              { key: 'service.instance.id', value: { stringValue: this.instanceId } },
            ],
          },
          scopeMetrics: [
            {
              scope: { name: 'ztgate' },
              metrics: [
                {
                  name: 'http.server.request.duration',
                  description: 'Duration of HTTP server requests.',
                  unit: 's',
                  histogram: { aggregationTemporality: 2 /* cumulative */, dataPoints },
                },
              ],
            },
          ],
        },
      ],
    };
  }

  private complain(why: string): void {
    const now = Date.now();
    if (now - this.lastComplaint < 60_000) return;
    this.lastComplaint = now;
    this.log.warn({ endpoint: this.config.endpoint, why }, 'metrics export failed; the counts go with the next export');
  }
}
