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
  description: 'Automatic response when the rule alerts: block or tighten the alert\'s consumer or client network in this gateway process. Ignored for `per: route` rules.',
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'durationMs'],
      properties: { type: { const: 'block', description: '`block`: refuse every request of the subject with 403 and `Retry-After` for `durationMs`.' }, durationMs: { ...ms(DAY), description: 'How long the action lasts, in milliseconds.' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'factor', 'durationMs'],
      properties: {
        type: { const: 'tighten', description: '`tighten`: multiply the rate-limit cost of the subject\'s requests by `factor` for `durationMs`.' },
        factor: { type: 'integer', minimum: 2, maximum: 1000, description: 'With `tighten`: what each request\'s rate-limit cost is multiplied by, so the subject gets this many times fewer requests.' },
        durationMs: { ...ms(DAY), description: 'How long the action lasts, in milliseconds.' },
      },
    },
  ],
};

const common = {
  name: { ...name, description: 'Name of the rule, carried by its alerts and metrics.' },
  kind: { type: 'string', description: 'What the rule watches: `spike`, `errors`, `latency`, `auth-failures`, `not-found`, `new-network` or `new-region`.' },
  cooldownMs: { ...ms(DAY), description: 'Milliseconds after an alert before the same rule alerts on the same subject again; default: the section\'s `cooldownMs`.' },
  action,
};

const per = { enum: ['consumer', 'route', 'network'], description: 'What a baseline is kept for: each consumer, each route, or each client network (/24 for IPv4, /48 for IPv6).' };
const factor = (dflt: number) => ({ type: 'number', minimum: 1, maximum: 1000, default: dflt, description: 'Alert when the present window reaches this many times its moving average.' });
const baselineTiming = {
  warmupMs: { ...ms(7 * DAY), description: 'Milliseconds a subject is watched, learning its baseline, before it may alert; default: the section\'s `warmupMs`.' },
  halfLifeMs: { ...ms(7 * DAY), description: 'Half-life of the moving average in milliseconds: how fast the baseline forgets old windows; default: the section\'s `halfLifeMs`.' },
};
const minRequests = { type: 'integer', minimum: 1, maximum: 1_000_000, default: 20, description: 'Requests a window must have before it is judged, or counts towards the baseline; thinner windows are skipped.' };

const kinds: Record<string, { required: string[]; properties: Record<string, unknown> }> = {
  spike: {
    required: ['per'],
    properties: {
      per,
      factor: factor(4),
      minRate: { type: 'number', exclusiveMinimum: 0, maximum: 1e9, default: 10, description: 'Requests per second below which nothing is a spike, however quiet the baseline.' },
      windowMs: { ...ms(3_600_000, 1000), description: 'Length in milliseconds of the windows whose request counts are compared; checked on every request, so a spike alerts while it happens.' },
      ...baselineTiming,
    },
  },
  errors: {
    required: ['per'],
    properties: {
      per,
      factor: factor(3),
      minRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.2, description: 'Lowest share of 5xx answers (0 to 1) that alerts, however low the baseline.' },
      minRequests,
      windowMs: { ...ms(3_600_000, 10_000), description: 'Length in milliseconds of the windows whose 5xx share is compared with the baseline.' },
      ...baselineTiming,
    },
  },
  latency: {
    required: ['per'],
    properties: {
      per,
      measure: { enum: ['total', 'upstream'], default: 'total', description: 'Which time is watched: the whole exchange as the client saw it, or the upstream\'s part. Only forwarded requests count.' },
      quantile: { type: 'number', minimum: 0.5, maximum: 0.99, default: 0.9, description: 'Quantile of each window compared with the baseline (0.9 is p90).' },
      factor: factor(3),
      minMs: { type: 'number', minimum: 0, maximum: 3_600_000, default: 100, description: 'Milliseconds below which no latency alerts, however fast the baseline.' },
      minRequests,
      windowMs: { ...ms(3_600_000, 10_000), description: 'Length in milliseconds of the windows whose quantile is compared with the baseline.' },
      ...baselineTiming,
    },
  },
  'auth-failures': {
    required: [],
    properties: {
      threshold: { type: 'integer', minimum: 1, maximum: 1e9, default: 20, description: 'Requests refused with 401 or 403 by the gateway (missing, bad or insufficient credentials) from one client network within `windowMs` that raise the alert.' },
      windowMs: { ...ms(DAY, 60_000), description: 'Length of the sliding window in milliseconds.' },
    },
  },
  'not-found': {
    required: [],
    properties: {
      threshold: { type: 'integer', minimum: 1, maximum: 1e9, default: 50, description: '404 answers (no route, or the upstream\'s own) to one client network within `windowMs` that raise the alert.' },
      windowMs: { ...ms(DAY, 60_000), description: 'Length of the sliding window in milliseconds.' },
    },
  },
  'new-network': { required: [], properties: { warmupMs: { ...ms(30 * DAY), description: 'Milliseconds after a consumer is first seen during which its networks are learnt silently; afterwards a request from a network it never used alerts. Default: the section\'s `warmupMs`.' } } },
  'new-region': { required: [], properties: { warmupMs: { ...ms(30 * DAY), description: 'Milliseconds after a consumer is first seen during which its regions are learnt silently; afterwards a request from a region it never used alerts. Default: the section\'s `warmupMs`.' } } },
};

export const ALERT_KINDS = Object.keys(kinds);

const rule = {
  type: 'object',
  required: ['name', 'kind'],
  properties: { kind: { enum: ALERT_KINDS, description: 'What the rule watches; the other fields depend on it.' } },
  allOf: ALERT_KINDS.map((k) => ({
    if: { properties: { kind: { const: k, description: 'What the rule watches.' } } },
    then: { type: 'object', additionalProperties: false, required: kinds[k].required, properties: { ...common, ...kinds[k].properties } },
  })),
};

// Addresses and CIDRs only (checked exactly at load by node:net); no backtracking pattern.
const cidr = { type: 'string', minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' };

export const alertsSchema = {
  description: 'Anomaly alerts: rules compare live traffic with learnt baselines, log and send what they find, and can block or tighten a consumer or network. Each gateway process judges the traffic it sees.',
  type: 'object',
  additionalProperties: false,
  properties: {
    halfLifeMs: { ...ms(7 * DAY, 600_000), description: 'Default half-life of the rules\' moving averages, in milliseconds.' },
    warmupMs: { ...ms(30 * DAY, 600_000), description: 'Default milliseconds a subject is watched before it may alert.' },
    cooldownMs: { ...ms(DAY, 600_000), description: 'Default milliseconds between two alerts of one rule on one subject.' },
    maxKeys: { type: 'integer', minimum: 100, maximum: 1_000_000, default: 10_000, description: 'Subjects (consumers, routes, networks) tracked per rule; the least recently seen is forgotten first.' },
    maxNetworksPerConsumer: { type: 'integer', minimum: 1, maximum: 1024, default: 32, description: 'Networks or regions remembered per consumer by `new-network` and `new-region`; the oldest is forgotten first.' },
    maxAlertsPerMinute: { type: 'integer', minimum: 1, maximum: 100_000, default: 60, description: 'Alerts logged and sent per minute and process; beyond it they are only counted (`ztgate_alerts_suppressed_total`).' },
    regions: {
      description: 'Named address ranges for `new-region` rules; an address belongs to the first region that holds it, or to `unknown`.',
      type: 'array',
      maxItems: 256,
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'cidrs'],
        properties: {
          name: { ...name, description: 'Name of the region, shown in alerts.' },
          cidrs: { type: 'array', minItems: 1, maxItems: 4096, items: cidr, description: 'Addresses and CIDR ranges of the region.' },
        },
      },
    },
    webhooks: {
      description: 'URLs every alert is POSTed to as JSON, from a bounded queue off the request path.',
      type: 'array',
      maxItems: 8,
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^https?://', description: 'HTTP or HTTPS URL to POST alerts to; redirects are not followed.' },
          secret: { ...secretRef, description: 'HMAC-SHA256 key: each body is signed in `x-ztgate-signature: sha256=<hex>` so the receiver can check it.' },
          attempts: { type: 'integer', minimum: 1, maximum: 10, default: 4, description: 'Tries per alert, the first included; after the last failure the alert is dropped and logged.' },
          backoffMs: { ...ms(60_000, 500), description: 'Milliseconds before the first retry; each further retry waits twice as long.' },
          timeoutMs: { ...ms(60_000, 5000), description: 'Milliseconds one POST may take before it counts as failed.' },
          maxQueued: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000, description: 'Alerts waiting to be sent; beyond it new alerts are dropped for this webhook.' },
        },
      },
    },
    rules: { type: 'array', maxItems: 64, default: [], items: rule, description: 'The alert rules; with none, nothing is watched.' },
  },
} as const;
