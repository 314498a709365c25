import { secretRef } from '../core/schema-parts.js';
import type { SecretRef } from '../core/secrets.js';

/** Config schema of the `observe` section and of a route's `accessLog` override. */

export const accessLogSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', description: 'One access line per request.' },
    sample: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Share of successful (status < 400) requests logged; errors and refusals are always logged.',
    },
  },
} as const;

export const observeSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    metrics: { type: 'boolean', default: true, description: 'Per-route and per-upstream histograms and counters.' },
    accessLog: {
      ...accessLogSchema,
      default: {},
      properties: {
        enabled: { ...accessLogSchema.properties.enabled, default: true },
        sample: { ...accessLogSchema.properties.sample, default: 1 },
      },
    },
    tracing: {
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
          type: 'object',
          additionalProperties: false,
          required: ['endpoint'],
          properties: {
            endpoint: { type: 'string', pattern: '^https?://', description: 'OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces.' },
            headers: { type: 'object', default: {}, propertyNames: { pattern: '^[a-z0-9-]{1,64}$' }, additionalProperties: secretRef },
            serviceName: { type: 'string', minLength: 1, maxLength: 128, default: 'ztgate' },
            maxBatch: { type: 'integer', minimum: 1, maximum: 10_000, default: 512 },
            flushMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 1000 },
            maxQueued: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 8192 },
            timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 5000 },
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
