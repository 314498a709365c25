import { secretRef } from '../core/schema-parts.js';
import type { SecretRef } from '../core/secrets.js';

/** Config schema of the `observe` section and of a route's `accessLog` override. */

export const accessLogSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', description: 'Write one access log line (JSON, to standard output) per request.' },
    sample: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Share of successful (status < 400) requests logged; errors and refusals are always logged.',
    },
  },
} as const;

/** Extra headers of an OTLP export (traces or metrics): each value a secret. */
const collectorHeaders = {
  type: 'object',
  default: {},
  propertyNames: { pattern: '^[a-z0-9-]{1,64}$' },
  additionalProperties: { ...secretRef, description: 'Value of the header.' },
  description: 'Extra request headers for the collector (lower-case names), such as an API key; each value is a secret.',
} as const;

export const observeSchema = {
  description: 'Metrics, access log and tracing.',
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    metrics: { type: 'boolean', default: true, description: 'Record per-route and per-upstream latency histograms and counters of finished requests (exported at the admin `/metrics`).' },
    accessLog: {
      ...accessLogSchema,
      description: 'Access log of every route; a route\'s own `accessLog` overrides it field by field.',
      default: {},
      properties: {
        enabled: { ...accessLogSchema.properties.enabled, default: true },
        sample: { ...accessLogSchema.properties.sample, default: 1 },
      },
    },
    otlpMetrics: {
      description:
        'Export OpenTelemetry\'s HTTP server metric, `http.server.request.duration` (seconds, by `http.route`, `http.request.method` and `http.response.status_code`), to a collector over OTLP/HTTP (JSON), as a cumulative histogram with the default buckets of the semantic conventions.',
      type: 'object',
      additionalProperties: false,
      required: ['endpoint'],
      properties: {
        endpoint: { type: 'string', pattern: '^https?://', description: 'OTLP/HTTP metrics URL, e.g. http://127.0.0.1:4318/v1/metrics.' },
        headers: collectorHeaders,
        serviceName: { type: 'string', minLength: 1, maxLength: 128, default: 'ztgate', description: 'The `service.name` resource attribute of the exported metric.' },
        intervalMs: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 60_000, description: 'Milliseconds between exports; each carries the counts since the process (or the config generation) started.' },
        timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 5000, description: 'Milliseconds an export request may take; a failed one is logged (once a minute) and its counts go with the next export.' },
        maxSeries: { type: 'integer', minimum: 1, maximum: 100_000, default: 2000, description: 'Most route, method and status combinations kept per process; beyond them requests count under the route `_other`.' },
      },
    },
    tracing: {
      description: 'W3C trace context: a `traceparent` is passed upstream on every request, and spans are exported when `otlp` is set.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        sample: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: 1,
          description: 'Share of new traces exported; a caller\'s sampled flag is followed as it is.',
        },
        otlp: {
          description: 'Export spans to an OpenTelemetry collector over OTLP/HTTP (JSON). Export runs off the request path; spans that cannot be sent are dropped and counted.',
          type: 'object',
          additionalProperties: false,
          required: ['endpoint'],
          properties: {
            endpoint: { type: 'string', pattern: '^https?://', description: 'OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces.' },
            headers: collectorHeaders,
            serviceName: { type: 'string', minLength: 1, maxLength: 128, default: 'ztgate', description: 'The `service.name` resource attribute of exported spans.' },
            maxBatch: { type: 'integer', minimum: 1, maximum: 10_000, default: 512, description: 'Most spans sent in one export request; a full batch is sent at once.' },
            flushMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 1000, description: 'Milliseconds a span may wait for its batch to fill before the batch is sent anyway.' },
            maxQueued: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 8192, description: 'Most spans waiting to be sent; beyond it new spans are dropped (counted in `ztgate_trace_spans_total`), so a slow collector never grows memory.' },
            timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 5000, description: 'Milliseconds an export request may take; a slower one is abandoned and its spans are dropped.' },
          },
        },
      },
    },
  },
} as const;

export interface AccessLogPolicy {
  enabled: boolean;
  sample: number;
}

export interface ObserveConfig {
  metrics: boolean;
  accessLog: AccessLogPolicy;
  otlpMetrics?: {
    endpoint: string;
    /** Header values are secrets (a collector's API key). */
    headers: Record<string, SecretRef>;
    serviceName: string;
    intervalMs: number;
    timeoutMs: number;
    maxSeries: number;
  };
  tracing: {
    sample: number;
    otlp?: {
      endpoint: string;
      /** Header values are secrets (a collector's API key). */
      headers: Record<string, SecretRef>;
      serviceName: string;
      maxBatch: number;
      flushMs: number;
      maxQueued: number;
      timeoutMs: number;
    };
  };
}
