import { name, secretRef } from '../../core/schema-parts.js';

/**
 * JSON Schema of the top-level `alerts` section. Each rule kind accepts only
 * its own fields (if/then per kind, like stage options); defaults are filled
 * at load.
 */
const ms = (max: number, dflt?: number) => ({ type: 'integer', minimum: 1, maximum: max, ...(dflt === undefined ? {} : { default: dflt }) });
const DAY = 86_400_000;

// Integer factors: a tightened cost stays a whole number of units.
const action = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'durationMs'],
      properties: { type: { const: 'block' }, durationMs: ms(DAY) },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'factor', 'durationMs'],
      properties: { type: { const: 'tighten' }, factor: { type: 'integer', minimum: 2, maximum: 1000 }, durationMs: ms(DAY) },
    },
  ],
};

const common = {
  name,
  kind: { type: 'string' },
  cooldownMs: ms(DAY),
  action,
};

const per = { enum: ['consumer', 'route', 'network'] };
const factor = (dflt: number) => ({ type: 'number', minimum: 1, maximum: 1000, default: dflt });
const baselineTiming = { warmupMs: ms(7 * DAY), halfLifeMs: ms(7 * DAY) };
const minRequests = { type: 'integer', minimum: 1, maximum: 1_000_000, default: 20 };

const kinds: Record<string, { required: string[]; properties: Record<string, unknown> }> = {
  spike: {
    required: ['per'],
    properties: { per, factor: factor(4), minRate: { type: 'number', exclusiveMinimum: 0, maximum: 1e9, default: 10 }, windowMs: ms(3_600_000, 1000), ...baselineTiming },
  },
  errors: {
    required: ['per'],
    properties: { per, factor: factor(3), minRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.2 }, minRequests, windowMs: ms(3_600_000, 10_000), ...baselineTiming },
  },
  latency: {
    required: ['per'],
    properties: {
      per,
      measure: { enum: ['total', 'upstream'], default: 'total' },
      quantile: { type: 'number', minimum: 0.5, maximum: 0.99, default: 0.9 },
      factor: factor(3),
      minMs: { type: 'number', minimum: 0, maximum: 3_600_000, default: 100 },
      minRequests,
      windowMs: ms(3_600_000, 10_000),
      ...baselineTiming,
    },
  },
  'auth-failures': { required: [], properties: { threshold: { type: 'integer', minimum: 1, maximum: 1e9, default: 20 }, windowMs: ms(DAY, 60_000) } },
  'not-found': { required: [], properties: { threshold: { type: 'integer', minimum: 1, maximum: 1e9, default: 50 }, windowMs: ms(DAY, 60_000) } },
  'new-network': { required: [], properties: { warmupMs: ms(30 * DAY) } },
  'new-region': { required: [], properties: { warmupMs: ms(30 * DAY) } },
};

export const ALERT_KINDS = Object.keys(kinds);

const rule = {
  type: 'object',
  required: ['name', 'kind'],
  properties: { kind: { enum: ALERT_KINDS } },
  allOf: ALERT_KINDS.map((k) => ({
    if: { properties: { kind: { const: k } } },
    then: { type: 'object', additionalProperties: false, required: kinds[k].required, properties: { ...common, ...kinds[k].properties } },
  })),
};

// Addresses and CIDRs only (checked exactly at load by node:net); no backtracking pattern.
const cidr = { type: 'string', minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' };

export const alertsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    halfLifeMs: ms(7 * DAY, 600_000),
    warmupMs: ms(30 * DAY, 600_000),
    cooldownMs: ms(DAY, 600_000),
    maxKeys: { type: 'integer', minimum: 100, maximum: 1_000_000, default: 10_000 },
    maxNetworksPerConsumer: { type: 'integer', minimum: 1, maximum: 1024, default: 32 },
    maxAlertsPerMinute: { type: 'integer', minimum: 1, maximum: 100_000, default: 60 },
    regions: {
      type: 'array',
      maxItems: 256,
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'cidrs'],
        properties: { name, cidrs: { type: 'array', minItems: 1, maxItems: 4096, items: cidr } },
      },
    },
    webhooks: {
      type: 'array',
      maxItems: 8,
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^https?://' },
          secret: secretRef,
          attempts: { type: 'integer', minimum: 1, maximum: 10, default: 4 },
          backoffMs: ms(60_000, 500),
          timeoutMs: ms(60_000, 5000),
          maxQueued: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
        },
      },
    },
    rules: { type: 'array', maxItems: 64, default: [], items: rule },
  },
} as const;
