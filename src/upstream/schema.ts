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
  description: 'How each request picks a target among those available (healthy, not ejected, circuit not open).',
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    algorithm: { enum: ['round-robin', 'least-outstanding', 'consistent-hash'], default: 'round-robin', description: '`round-robin`: weighted, spread evenly. `least-outstanding`: of two random targets, the one with fewer requests in flight per unit of weight. `consistent-hash`: the same key always goes to the same target (needs `hashOn`).' },
    /** What consistent hashing keys on; required with that algorithm. */
    hashOn: {
      description: 'The key of `consistent-hash`: one of `header`, `cookie` or `clientAddress`. A request without the key is balanced in turn; keys of a target that leaves move to the next one and come back with it.',
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['header'], properties: { header: { ...header, description: 'Name of the request header whose value is hashed.' } } },
        { type: 'object', additionalProperties: false, required: ['cookie'], properties: { cookie: { ...header, description: 'Name of the cookie whose value is hashed.' } } },
        { type: 'object', additionalProperties: false, required: ['clientAddress'], properties: { clientAddress: { const: true, description: 'Hash the client address (after `trustedProxies`).' } } },
      ],
    },
    /** Ring points per unit of weight (the ring is capped at 65,536 points). */
    virtualNodes: { ...positive(1000, 100), description: 'Points on the hash ring per unit of target weight; more spread keys more evenly. The ring is capped at 65,536 points in all.' },
  },
  if: { properties: { algorithm: { const: 'consistent-hash', description: 'Consistent hashing needs `hashOn`.' } }, required: ['algorithm'] },
  then: { required: ['hashOn'] },
};

const healthCheck = {
  description: 'Active health checks: each gateway process GETs `path` on every target on a fresh connection (TLS as for requests). An unhealthy target gets no requests; a passing check also ends an ejection at once. Off unless set.',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', pattern: '^/[\\x21-\\x7e]{0,1023}$', description: 'Path (and query) of the check request, such as `/healthz`.' },
    intervalMs: { ...int(100, 3_600_000, 5_000), description: 'Milliseconds between two checks of a target.' },
    timeoutMs: { ...int(50, 600_000, 2_000), description: 'Milliseconds a check may take before it counts as failed.' },
    /** Consecutive passes that mark a target healthy again, failures that mark it unhealthy. */
    healthyThreshold: { ...positive(100, 1), description: 'Passing checks in a row that mark an unhealthy target healthy again.' },
    unhealthyThreshold: { ...positive(100, 2), description: 'Failed checks in a row that mark a target unhealthy.' },
    /** Statuses that pass: numbers, or classes like "2xx". */
    expectedStatuses: {
      description: 'Statuses that pass, as numbers (`204`) or classes (`2xx`).',
      type: 'array',
      minItems: 1,
      maxItems: 64,
      default: ['2xx'],
      items: { oneOf: [{ type: 'integer', minimum: 100, maximum: 599 }, { type: 'string', pattern: '^[1-5]xx$' }] },
    },
  },
};

const outlierDetection = {
  description: 'Passive health: a target that keeps failing real requests is ejected (gets no requests) for a while, longer each time it is ejected again.',
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    /** 0 turns a detector off. */
    consecutive5xx: { ...int(0, 1000, 5), description: '5xx answers in a row that eject a target; 0 turns this check off.' },
    consecutiveConnectFailures: { ...int(0, 1000, 3), description: 'Failed connection attempts in a row that eject a target; 0 turns this check off.' },
    baseEjectionMs: { ...int(100, 3_600_000, 10_000), description: 'Milliseconds of the first ejection; each further ejection in a row doubles it, up to `maxEjectionMs`.' },
    maxEjectionMs: { ...int(100, 86_400_000, 300_000), description: 'Longest ejection in milliseconds; a target that stayed in this long starts again from `baseEjectionMs`.' },
    /** At most this share of targets ejected at once (at least one may always be). */
    maxEjectedPercent: { ...int(0, 100, 50), description: 'Most targets ejected at once, as a percentage of the upstream\'s targets (rounded down); one unreachable target may always be ejected.' },
  },
};

const circuitBreaker = {
  description: 'Per-target circuit breaker: when too many requests fail (5xx, connection errors, timeouts), the target gets no requests for `openMs`, then a few probes decide whether it is back.',
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true, description: 'Turn the circuit breaker on or off.' },
    failureRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.5, description: 'Share of failed requests in the window (0 to 1) that opens the circuit.' },
    minRequests: { ...positive(100_000, 20), description: 'Requests the window must hold before the circuit may open, so a few early failures do not.' },
    windowMs: { ...int(1000, 600_000, 10_000), description: 'Length in milliseconds of the sliding window failures are counted over.' },
    openMs: { ...int(100, 3_600_000, 5_000), description: 'Milliseconds an open circuit sends nothing to the target before probing.' },
    halfOpenRequests: { ...positive(100, 1), description: 'Probe requests let through at a time after `openMs`; this many successes close the circuit, one failure opens it again.' },
  },
};

const retries = {
  description: 'Retries on another target after a failed try, when nothing was sent to the client yet and it is safe: any method if the request never reached the target, idempotent methods otherwise, and only with the body at hand.',
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    /** Extra attempts after the first, each on another target. */
    attempts: { ...int(0, 5, 1), description: 'Extra tries after the first, each on a target this request has not tried; 0 turns retries off.' },
    sameTarget: { type: 'boolean', default: false, description: 'Whether a retry may go back to the target that just failed when no other target can take it (off: a request reaches each target once, besides the one replay of a reused keep-alive connection the service closed before answering).' },
    /** Retries stay under budgetRatio × requests over budgetWindowMs, plus budgetMinRetries. */
    budgetRatio: { ...ratio(0.2), description: 'Retries may add at most this share (0 to 1) of the upstream\'s requests over `budgetWindowMs`, so retries cannot multiply an outage.' },
    budgetMinRetries: { ...int(0, 10_000, 3), description: 'Retries always allowed per window on top of `budgetRatio`, so a quiet upstream can still retry.' },
    budgetWindowMs: { ...int(1000, 600_000, 10_000), description: 'Length in milliseconds of the sliding window the retry budget is counted over.' },
  },
};

const tls = {
  description: 'TLS to `https://` targets: the certificate is always verified (TLS 1.2 or later).',
  type: 'object',
  additionalProperties: false,
  properties: {
    /** CA bundle (PEM) the services' certificates must chain to; default: the system's. */
    ca: { ...secretRef, description: 'PEM CA bundle the targets\' certificates must chain to; default: Node\'s bundled public roots.' },
    /** SNI and the name checked in the certificate; default: the target's host (none for an IP). */
    servername: { type: 'string', pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$', description: 'Name sent in SNI and checked in the certificate; default: the target\'s host name (none for an IP address).' },
    /** Client certificate and key (PEM) for mTLS to the service. */
    cert: { ...secretRef, description: 'PEM client certificate for mutual TLS to the targets; needs `key`.' },
    key: { ...secretRef, description: 'PEM private key of `cert`.' },
    passphrase: { ...secretRef, description: 'Passphrase of an encrypted `key`.' },
    minVersion: { enum: ['TLSv1.2', 'TLSv1.3'], default: 'TLSv1.2', description: 'Oldest TLS version accepted.' },
  },
  dependencies: { cert: ['key'], key: ['cert'], passphrase: ['key'] },
};

export const upstreamSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'targets'],
  properties: {
    name: { ...name, description: 'Unique name of the upstream; routes refer to it in `upstream`, and metrics and logs carry it.' },
    targets: {
      description: 'Servers of the upstream (at most 256).',
      type: 'array',
      minItems: 1,
      maxItems: MAX_TARGETS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^https?://[^/?#@]+/?$', description: 'Scheme, host and port of the server, such as `http://10.0.0.5:8080`, without path or credentials; `https://` turns on `tls`.' },
          weight: { ...positive(1000, 1), description: 'Share of requests relative to the other targets\' weights.' },
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
      description: 'Keep-alive connections to each target, per gateway process.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxConnections: { ...positive(100_000, 256), description: 'Most open connections to one target; beyond it requests wait in a queue.' },
        idleTimeoutMs: { ...positive(3_600_000, 30_000), description: 'Milliseconds an unused connection stays open before it is closed.' },
        maxRequestsPerConnection: { ...positive(10_000_000, 10_000), description: 'Requests after which a connection is closed and replaced.' },
        maxQueued: { ...positive(1_000_000, 1024), description: 'Requests waiting for a connection to one target; beyond it, or when none frees up within `timeouts.connectMs`, the request fails with 503.' },
      },
    },
    timeouts: {
      description: 'Time limits of each try; a try that runs out fails with 504 (and may be retried).',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        connectMs: { ...positive(600_000, 5_000), description: 'Milliseconds to open a connection (TLS handshake included), and to wait for a pooled one.' },
        firstByteMs: { ...positive(3_600_000, 30_000), description: 'Milliseconds from the request being sent to the first byte of the answer.' },
        idleMs: { ...positive(3_600_000, 60_000), description: 'Longest silence in milliseconds while the body is sent or received; bounds long downloads without limiting their length.' },
        totalMs: { type: 'integer', minimum: 0, maximum: 86_400_000, default: 0, description: 'Milliseconds the whole exchange may take, retries included; 0: no total limit.' },
      },
    },
  },
};
