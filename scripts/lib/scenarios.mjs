// The named load scenarios: which ztgate route each one exercises and the
// request it sends. One generated gateway config carries every route, so
// scenarios compare on one process and one upstream.
import { createPublicKey } from 'node:crypto';
import { makeIdentityFixtures } from '../../native-bench/identity-fixtures.mjs';

const ORDER_ITEMS = Array.from({ length: 14 }, (_, i) => ({ sku: `SKU-${1000 + i}`, name: `Blue widget, size ${i}`, qty: i + 1, note: "O'Brien's order: select the union-blue one <3" }));
/** ~2 KB JSON order (the inspect scenario, as in bench-native). */
export const ORDER_BODY = JSON.stringify({ customer: { name: 'Sean O\'Brien', email: 'sean@example.com' }, items: ORDER_ITEMS });
/** A small JSON body (the full scenario). */
export const SMALL_BODY = JSON.stringify({ sku: 'SKU-1001', qty: 2, customer: 'cus_1001', note: "Leave it at the blue door, ring twice (O'Brien)" });
const JSON_TYPE = { 'content-type': 'application/json' };
const QUERY = '?q=blue+widget&page=2';

const bearer = (fx) => ({ authorization: `Bearer ${fx.repeatedToken}` });

/**
 * name → { what, request(fx) } where fx holds the identity fixtures
 * ({ repeatedToken, tokensFile }). `needsDistinct` asks for a file of
 * distinct tokens (more than the verified-token cache holds).
 */
export const SCENARIOS = {
  bare: {
    what: 'bare proxy: GET, no stage',
    request: () => ({ method: 'GET', path: '/' }),
  },
  jwt: {
    what: 'identity stage, one repeated ES256 token (the verified-token cache)',
    request: (fx) => ({ method: 'GET', path: '/jwt/x', headers: bearer(fx) }),
  },
  'jwt-distinct': {
    what: 'identity stage, a different ES256 token per request (real verifications in the worker pool)',
    needsDistinct: true,
    request: (fx) => ({ method: 'GET', path: '/jwt/x', tokens: fx.tokensFile }),
  },
  'jwt-distinct-ratelimit': {
    what: 'identity (a different ES256 token per request) + rate limit keyed by IP, never reached',
    needsDistinct: true,
    request: (fx) => ({ method: 'GET', path: '/jwtrl/x', tokens: fx.tokensFile }),
  },
  'jwt-ratelimit': {
    what: 'identity (repeated ES256 token) + rate limit keyed by IP, never reached',
    request: (fx) => ({ method: 'GET', path: '/jwtrl/x', headers: bearer(fx) }),
  },
  apikey: {
    what: 'identity stage, API key (SHA-256 and a constant-time compare)',
    request: (fx) => ({ method: 'GET', path: '/key/x', headers: { 'x-api-key': fx.apiKey } }),
  },
  ratelimit: {
    what: 'rate-limit stage keyed by IP, limit never reached',
    request: () => ({ method: 'GET', path: '/rl/x' }),
  },
  quota: {
    what: 'rate-limit stage with a 1e9/day quota keyed by IP, never reached, kept in the state store (redis-server on loopback): one store round trip per request',
    request: () => ({ method: 'GET', path: '/quota/x' }),
  },
  inspect: {
    what: `inspect stage: POST with a query string and a ${ORDER_BODY.length}-byte JSON order`,
    request: () => ({ method: 'POST', path: `/inspect/orders${QUERY}`, headers: JSON_TYPE, body: ORDER_BODY }),
  },
  masked: {
    what: 'protect stage: GET of a ~4 KB JSON answer full of PII, masked',
    request: () => ({ method: 'GET', path: '/pii/customers' }),
  },
  full: {
    what: `cached JWT + rate limit + inspection of a query and a ${SMALL_BODY.length}-byte JSON body + masking of a ~4 KB JSON answer`,
    request: (fx) => ({ method: 'POST', path: `/full/orders${QUERY}`, headers: { ...bearer(fx), ...JSON_TYPE }, body: SMALL_BODY }),
  },
};

export const DISTINCT_TOKENS_DEFAULT = 150_000;

/** ES256 issuer, tokens and API key; `distinct` tokens are signed only when asked (it takes seconds). */
export function identityFixtures(dir, distinct) {
  const fx = makeIdentityFixtures(dir, distinct);
  fx.publicKeyPem = createPublicKey({ key: fx.jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  return fx;
}

/** The gateway config (an object, written as YAML) with one route per scenario; with `stateUrl`, a state section and the quota route. */
export function ztgateConfig({ port, upstreamPort, fx, stateUrl = null }) {
  const jwt = { type: 'identity', methods: [{ jwt: { issuers: ['bench'] } }], scopes: { allOf: ['read'] } };
  const rl = { type: 'rate-limit', limits: [{ rate: '10000000/s', key: ['ip'] }] };
  const route = (name, path, stages, extra = {}) => ({ name, match: { path }, upstream: 'origin', ...extra, ...(stages.length ? { stages } : {}) });
  return {
    listeners: [{ name: 'bench', host: '127.0.0.1', port, segment: 'external' }],
    upstreams: [{ name: 'origin', targets: [{ url: `http://127.0.0.1:${upstreamPort}` }], pool: { maxConnections: 128 } }],
    identity: {
      issuers: [{ name: 'bench', issuer: 'https://bench.idp', audiences: ['bench'], algorithms: ['ES256'], jwks: [fx.jwk] }],
      consumers: [{ name: 'bench-client', apiKeys: [{ sha256: fx.apiKeySha256 }] }],
    },
    routes: [
      route('bare', '/*', [], { public: true }),
      route('jwt', '/jwt/*', [jwt]),
      route('jwt-ratelimit', '/jwtrl/*', [jwt, rl]),
      route('apikey', '/key/*', [{ type: 'identity', methods: [{ apiKey: {} }] }]),
      route('ratelimit', '/rl/*', [rl], { public: true }),
      route('inspect', '/inspect/*', [{ type: 'inspect' }], { public: true }),
      route('masked', '/pii/*', [{ type: 'protect' }], { public: true }),
      route('full', '/full/*', [jwt, rl, { type: 'inspect' }, { type: 'protect' }]),
      ...(stateUrl ? [route('quota', '/quota/*', [{ type: 'rate-limit', limits: [{ rate: '1000000000/day', key: ['ip'] }] }], { public: true })] : []),
    ],
    ...(stateUrl ? { state: { redis: { url: stateUrl } } } : {}),
  };
}
