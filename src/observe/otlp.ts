import type { Logger } from './log.js';
import type { Counter } from '../core/metrics.js';
import type { RequestObserver, RequestRecord } from './request-record.js';

export interface OtlpConfig {
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  endpoint: string;
  /** Extra headers (an API key of the collector, say). */
  headers: Record<string, string>;
  serviceName: string;
  /** Spans per POST at most; a full batch is sent at once. */
  maxBatch: number;
  /** A partial batch waits at most this long. */
  flushMs: number;
  /** Spans waiting beyond this are dropped (counted), never queued without bound. */
  maxQueued: number;
  timeoutMs: number;
}

const SERVER = 2; // SpanKind SERVER
const STATUS_ERROR = 2;

/**
 * Exports the gateway's span of each sampled request to an OpenTelemetry
 * collector over OTLP/HTTP (JSON encoding): batched, one POST at a time, off
 * the request path. A slow or absent collector costs dropped spans (counted
 * and logged once per minute), never memory or request latency.
 */
export class OtlpExporter implements RequestObserver {
  private queue: object[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private closed = false;
  private lastComplaint = 0;
  exported = 0;
  dropped = 0;

  constructor(
    private readonly config: OtlpConfig,
    private readonly log: Logger,
    private readonly counter: Counter | null,
  ) {}

  observe(r: RequestRecord): void {
    if (this.closed || !r.span.sampled) return;
    if (this.queue.length >= this.config.maxQueued) {
      this.drop(1, 'queue full');
      return;
    }
    this.queue.push(toSpan(r));
    if (this.queue.length >= this.config.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.config.flushMs).unref();
  }

  /** Sends what waits and stops taking spans. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const spans = this.queue.splice(0, this.config.maxBatch);
        await this.post(spans);
      }
    } finally {
      this.sending = false;
    }
  }

  private async post(spans: object[]): Promise<void> {
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', this.config.serviceName)] },
          scopeSpans: [{ scope: { name: 'ztgate' }, spans }],
        },
      ],
    });
    try {
      const res = await fetch(this.config.endpoint, {
        method: 'POST',
        headers: { ...this.config.headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.config.timeoutMs),
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) return this.drop(spans.length, `collector answered ${res.status}`);
      this.exported += spans.length;
      this.counter?.inc(['exported'], spans.length);
    } catch (err) {
      this.drop(spans.length, (err as Error).message);
    }
  }

  private drop(n: number, why: string): void {
    this.dropped += n;
    this.counter?.inc(['dropped'], n);
    const now = Date.now();
    if (now - this.lastComplaint > 60_000) {
      this.lastComplaint = now;
      this.log.warn({ endpoint: this.config.endpoint, dropped: this.dropped, why }, 'trace export: spans dropped');
    }
  }
}

function attr(key: string, value: string | number): object {
  return { key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } };
}

function toSpan(r: RequestRecord): object {
  const startNs = BigInt(Math.round(r.time * 1000)) * 1000n;
  const endNs = startNs + BigInt(Math.round(r.totalMs * 1e6));
  const attributes = [attr('http.request.method', r.method), attr('http.response.status_code', r.status), attr('client.address', r.clientAddress), attr('ztgate.listener', r.listener)];
  if (r.route) attributes.push(attr('http.route', r.route), attr('url.path', r.path));
  if (r.upstream) attributes.push(attr('ztgate.upstream', r.upstream));
  if (r.consumer !== null) attributes.push(attr('ztgate.consumer', r.consumer));
  if (r.code !== null) attributes.push(attr('ztgate.code', r.code));
  if (r.upstreamMs !== null) attributes.push(attr('ztgate.upstream_us', Math.round(r.upstreamMs * 1000)));
  return {
    traceId: r.span.traceId,
    spanId: r.span.spanId,
    ...(r.span.parentId !== null ? { parentSpanId: r.span.parentId } : {}),
    name: r.route ? `${r.method} ${r.route}` : r.method,
    kind: SERVER,
    startTimeUnixNano: startNs.toString(),
    endTimeUnixNano: endNs.toString(),
    attributes,
    status: r.status >= 500 || r.status === 0 ? { code: STATUS_ERROR, message: r.code ?? '' } : {},
  };
}
