import type { GatewayConfig } from '../config/types.js';
import { validateConfig } from '../config/load.js';
import type { DemoCredentials } from './credentials.js';

export interface DemoPorts {
  gateway: number;
  upstream: number;
}

/** The demo's personal-data entities: masked for everyone, shown in full to the demo consumer. */
const ENTITIES = ['CREDIT_CARD', 'EMAIL_ADDRESS', 'IBAN_CODE', 'PHONE_NUMBER', 'US_SSN'];
const protect = (grants: boolean) => ({
  type: 'protect',
  entities: ENTITIES,
  grants: grants ? [{ consumers: ['demo-partner'], actions: Object.fromEntries(ENTITIES.map((e) => [e, 'allow'])) }] : [],
});

/**
 * The embedded default, a small tour of what a gateway in front of a service
 * does: a public route, a route for the demo API key and one for a demo JWT
 * (both credentials made at start, see credentials.ts), a rate-limited
 * route, an inspected one, and personal data masked for anonymous callers
 * and shown to the demo consumer. Every route but the public ones says who
 * may call it, as any route must.
 */
export function demoConfig(ports: DemoPorts, c: DemoCredentials): GatewayConfig {
  const upstream = 'demo';
  return validateConfig(
    {
      listeners: [{ name: 'demo', host: '127.0.0.1', port: ports.gateway, segment: 'external' }],
      upstreams: [{ name: upstream, targets: [{ url: `http://127.0.0.1:${ports.upstream}` }] }],
      identity: {
        issuers: [{ name: 'demo', issuer: c.issuer, audiences: [c.audience], algorithms: ['ES256'], jwks: [c.publicJwk] }],
        consumers: [{ name: 'demo-partner', groups: ['partners'], apiKeys: [{ sha256: c.apiKeySha256 }] }],
      },
      routes: [
        { name: 'demo-api', match: { path: '/api/*' }, upstream, public: true },
        { name: 'demo-health', match: { path: '/health', methods: ['GET', 'HEAD'] }, upstream, public: true },
        { name: 'demo-token', match: { path: '/token', methods: ['GET'] }, upstream, public: true },
        {
          name: 'demo-key',
          match: { path: '/key/*' },
          upstream,
          stages: [{ type: 'identity', methods: [{ apiKey: { header: 'x-api-key' } }] }, protect(true)],
        },
        {
          name: 'demo-jwt',
          match: { path: '/jwt/*' },
          upstream,
          stages: [{ type: 'identity', methods: [{ jwt: { issuers: ['demo'] } }], scopes: { allOf: ['demo.read'] } }],
        },
        {
          name: 'demo-limited',
          match: { path: '/limited/*' },
          upstream,
          public: true,
          stages: [{ type: 'rate-limit', headers: true, limits: [{ name: 'per-client', rate: '1/s', burst: 3, key: ['ip'] }] }],
        },
        { name: 'demo-search', match: { path: '/search' }, upstream, public: true, stages: [{ type: 'inspect', level: 1, mode: 'block' }] },
        { name: 'demo-records', match: { path: '/records', methods: ['GET'] }, upstream, public: true, stages: [protect(false)] },
      ],
    },
    process.cwd(),
  );
}
