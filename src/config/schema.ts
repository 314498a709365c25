import { name, secretRef } from '../core/schema-parts.js';
import { accessLogSchema, observeSchema } from '../observe/schema.js';
import { stageFactories } from '../pipeline/registry.js';
import { identitySchema } from '../identity/schema.js';
import { alertsSchema } from '../observe/anomaly/schema.js';
import { upstreamSchema } from '../upstream/schema.js';
import { websocketSchema } from '../proxy/websocket-schema.js';
import { stateSchema } from '../state/schema.js';

/**
 * The configuration schema: validated at load (ajv, defaults filled in) and
 * published as config.schema.json for editors (`npm run schema`).
 * Cross-references (a route naming an upstream) are checked in load.ts.
 */

const listener = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'port'],
  properties: {
    name: { ...name, description: 'Unique name of the listener; routes refer to it in `listeners` and logs and metrics carry it.' },
    host: { type: 'string', minLength: 1, default: '0.0.0.0', description: 'Address to bind: `0.0.0.0` for every IPv4 interface, `::` for IPv6, `127.0.0.1` for loopback only.' },
    port: { type: 'integer', minimum: 0, maximum: 65535, description: 'TCP port to listen on; `0` picks a free port. Two listeners may not share a host and port.' },
    segment: { ...name, default: 'external', description: 'Network segment this listener faces (for example `external` or `internal`); a route with `segments` is served only on listeners of those segments.' },
    tls: {
      description: 'Serve HTTPS (TLS 1.2 and later) on this listener; without it the listener speaks plain HTTP.',
      type: 'object',
      additionalProperties: false,
      required: ['certificates'],
      properties: {
        certificates: {
          description: 'Certificates to serve. The first is the default; each further one is chosen by SNI for its `serverNames`.',
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['cert', 'key'],
            properties: {
              cert: { type: 'string', minLength: 1, description: 'Path of the PEM certificate (chain) file, relative to the config file; checked readable at load.' },
              key: { type: 'string', minLength: 1, description: 'Path of the PEM private key file, relative to the config file; checked readable at load.' },
              passphrase: { ...secretRef, description: 'Passphrase of an encrypted private key.' },
              serverNames: { type: 'array', items: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$' }, description: 'SNI host names (`*.example.com` allowed) this certificate is served for. Ignored on the first certificate, which answers every other name.' },
            },
          },
        },
        clientCa: { type: 'string', minLength: 1, description: 'Path of a PEM CA bundle for mutual TLS: a client certificate not signed by it is refused in the handshake. Clients without a certificate still connect; an identity stage with `mtls` then answers 401.' },
      },
    },
  },
};

// Uppercase only, like the handler accepts: a lowercase method could never match.
const method = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Z-]{1,32}$" };

const route = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'match', 'upstream'],
  properties: {
    name: { ...name, description: 'Unique name of the route; logs, metrics and traces carry it.' },
    match: {
      description: 'Which requests this route takes. The most specific match wins: exact host over wildcard host over no host, then exact path over `:param` path over `/*` prefix.',
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        host: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$', description: 'Host header to match, case-insensitive, without port; `*.example.com` matches any subdomain. Omit to match any host.' },
        path: { type: 'string', pattern: '^/', description: 'Path pattern, in normalized form: exact (`/users`), with parameters (`/users/:id`), or a prefix ending in `/*` (`/api/*`). Matched against the normalized request path.' },
        methods: { type: 'array', minItems: 1, items: method, description: 'Upper-case methods the route accepts; a matching path with another method is answered 405 with `Allow`. Omit to accept any method.' },
        caseInsensitive: {
          type: 'boolean',
          default: false,
          description: 'Match the path pattern in any ASCII case (/ADMIN/users matches /admin/*). Default false: byte-exact. The path is forwarded as sent.',
        },
      },
    },
    upstream: { ...name, description: 'Name of the upstream (from `upstreams`) that requests on this route are sent to.' },
    public: { type: 'boolean', default: false, description: 'Open the route to anyone. A route must either be public or have an identity stage; both at once is an error.' },
    listeners: { type: 'array', minItems: 1, items: name, description: 'Names of the listeners the route is served on; omit to serve it on every listener.' },
    segments: { type: 'array', minItems: 1, items: name, description: 'Listener segments the route is served on; on other listeners it does not exist (404). Omit for every segment.' },
    maxBodyBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 10 * 1024 * 1024, description: 'Largest request body in bytes, by its Content-Length; a larger one is refused with 413 before it is read. Default 10 MiB.' },
    preserveHost: { type: 'boolean', default: false, description: 'Send the client\'s Host header upstream; by default the upstream target\'s host and port are sent.' },
    websocket: websocketSchema,
    accessLog: { ...accessLogSchema, description: 'This route\'s access log, overriding `observe.accessLog` field by field.' },
    path: {
      description: 'What the route accepts in request paths beyond the strict default.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        allowSemicolon: { type: 'boolean', default: false, description: 'Accept a raw `;` in the path. Off by default: path parameters (`/admin;x`) are a common way to slip past route rules.' },
        allowEncodedSlash: { type: 'boolean', default: false, description: 'Accept `%2F` and `%5C` in the path (kept encoded). Off by default, since an upstream that decodes them would see a different path than the one routed.' },
      },
    },
    stages: {
      description: 'Stages that run on each request of the route (identity, rate-limit, validate, concurrency, inspect, protect, headers). They always run in that order, whatever order they are listed in.',
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['type'],
        properties: { type: { enum: stageFactories.map((f) => f.type), description: 'Stage type; the other fields are that stage\'s options.' } },
        allOf: stageFactories.map((f) => ({ if: { properties: { type: { const: f.type, description: 'Stage type.' } } }, then: f.schema })),
      },
    },
  },
};

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://ztgate.dev/config.schema.json',
  title: 'ztgate gateway configuration',
  type: 'object',
  additionalProperties: false,
  required: ['listeners', 'upstreams', 'routes'],
  properties: {
    listeners: { type: 'array', minItems: 1, items: listener, description: 'Addresses the gateway accepts clients on, each plain HTTP or HTTPS.' },
    upstreams: { type: 'array', minItems: 1, items: upstreamSchema, description: 'Backend services that routes send requests to, each a set of targets with balancing, health checks and timeouts.' },
    routes: { type: 'array', items: route, description: 'Which requests go to which upstream, and the stages each passes on the way. A request no route matches is answered 404.' },
    trustedProxies: { type: 'array', default: [], items: { type: 'string', minLength: 2 }, description: 'Addresses or CIDR ranges of proxies in front of the gateway. Only when the peer is one of them is `X-Forwarded-For` read, from the right, to find the client address; otherwise the peer address is the client.' },
    identity: { ...identitySchema, default: {} },
    alerts: { ...alertsSchema, default: {} },
    observe: observeSchema,
    state: stateSchema,
    clientHeaders: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Client headers that backends read as identity, client address, URL or method.',
      properties: {
        underscores: {
          enum: ['drop', 'reject', 'allow'],
          default: 'drop',
          description: 'Header names with an underscore (CGI/WSGI/Rack read X_Consumer_Id as X-Consumer-Id): drop them, reject the request (400 ZTG_BAD_HEADER), or allow them.',
        },
        methodOverride: {
          enum: ['strip', 'keep'],
          default: 'strip',
          description: 'X-HTTP-Method-Override, X-Method-Override, X-HTTP-Method: strip them (default), or keep them for a backend that needs them.',
        },
      },
    },
    limits: {
      description: 'Limits on every request, before any route is chosen.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { maxUrlBytes: { type: 'integer', minimum: 64, maximum: 65_536, default: 8192, description: 'Longest request target (path plus query) in bytes; a longer one is answered 414.' } },
    },
  },
} as const;
