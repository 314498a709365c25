import { name, secretRef } from '../core/schema-parts.js';

/**
 * The `upstreams[]` section: targets and their weights, the balancer, active
 * and passive health, the circuit breaker, retries and TLS to the service.
 * Every block has defaults, so `{ name, targets: [{ url }] }` stays valid.
 */
const int = (min: number, max: number, dflt: number) => ({ type: 'integer', minimum: min, maximum: max, default: dflt });
const positive = (max: number, dflt: number) => int(1, max, dflt);
const ratio = (dflt: number) => ({ type: 'number', minimum: 0, maximum: 1, default: dflt });
const header = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$" };

/** Most targets one upstream may list: balancers scan them, so they stay few. */
export const MAX_TARGETS = 256;

const balancer = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    algorithm: { enum: ['round-robin', 'least-outstanding', 'consistent-hash'], default: 'round-robin' },
    /** What consistent hashing keys on; required with that algorithm. */
    hashOn: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['header'], properties: { header } },
        { type: 'object', additionalProperties: false, required: ['cookie'], properties: { cookie: header } },
        { type: 'object', additionalProperties: false, required: ['clientAddress'], properties: { clientAddress: { const: true } } },
      ],
    },
    /** Ring points per unit of weight (the ring is capped at 65,536 points). */
    virtualNodes: positive(1000, 100),
  },
  if: { properties: { algorithm: { const: 'consistent-hash' } }, required: ['algorithm'] },
  then: { required: ['hashOn'] },
};

const healthCheck = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', pattern: '^/[\\x21-\\x7e]{0,1023}$' },
    intervalMs: int(100, 3_600_000, 5_000),
    timeoutMs: int(50, 600_000, 2_000),
    /** Consecutive passes that mark a target healthy again, failures that mark it unhealthy. */
    healthyThreshold: positive(100, 1),
    unhealthyThreshold: positive(100, 2),
    /** Statuses that pass: numbers, or classes like "2xx". */
    expectedStatuses: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      default: ['2xx'],
      items: { oneOf: [{ type: 'integer', minimum: 100, maximum: 599 }, { type: 'string', pattern: '^[1-5]xx$' }] },
    },
  },
};

const outlierDetection = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    /** 0 turns a detector off. */
    consecutive5xx: int(0, 1000, 5),
    consecutiveConnectFailures: int(0, 1000, 3),
    baseEjectionMs: int(100, 3_600_000, 10_000),
    maxEjectionMs: int(100, 86_400_000, 300_000),
    /** At most this share of targets ejected at once (at least one may always be). */
    maxEjectedPercent: int(0, 100, 50),
  },
};

const circuitBreaker = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true },
    failureRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.5 },
    minRequests: positive(100_000, 20),
    windowMs: int(1000, 600_000, 10_000),
    openMs: int(100, 3_600_000, 5_000),
    halfOpenRequests: positive(100, 1),
  },
};

const retries = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    /** Extra attempts after the first, each on another target. */
    attempts: int(0, 5, 1),
    sameTarget: { type: 'boolean', default: false, description: 'Whether a retry may go back to the target that just failed when no other target can take it (off: a request reaches each target once, besides the one replay of a reused keep-alive connection the service closed before answering).' },
    /** Retries stay under budgetRatio × requests over budgetWindowMs, plus budgetMinRetries. */
    budgetRatio: ratio(0.2),
    budgetMinRetries: int(0, 10_000, 3),
    budgetWindowMs: int(1000, 600_000, 10_000),
  },
};

const tls = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** CA bundle (PEM) the services' certificates must chain to; default: the system's. */
    ca: secretRef,
    /** SNI and the name checked in the certificate; default: the target's host (none for an IP). */
    servername: { type: 'string', pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$' },
    /** Client certificate and key (PEM) for mTLS to the service. */
    cert: secretRef,
    key: secretRef,
    passphrase: secretRef,
    minVersion: { enum: ['TLSv1.2', 'TLSv1.3'], default: 'TLSv1.2' },
  },
  dependencies: { cert: ['key'], key: ['cert'], passphrase: ['key'] },
};

export const upstreamSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'targets'],
  properties: {
    name,
    targets: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_TARGETS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^https?://[^/?#@]+/?$' },
          weight: positive(1000, 1),
        },
      },
    },
    balancer,
    healthCheck,
    outlierDetection,
    circuitBreaker,
    retries,
    tls,
    pool: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxConnections: positive(100_000, 256),
        idleTimeoutMs: positive(3_600_000, 30_000),
        maxRequestsPerConnection: positive(10_000_000, 10_000),
        maxQueued: positive(1_000_000, 1024),
      },
    },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        connectMs: positive(600_000, 5_000),
        firstByteMs: positive(3_600_000, 30_000),
        idleMs: positive(3_600_000, 60_000),
        totalMs: { type: 'integer', minimum: 0, maximum: 86_400_000, default: 0 },
      },
    },
  },
};
