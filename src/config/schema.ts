import { name, secretRef } from '../core/schema-parts.js';
import { accessLogSchema, observeSchema } from '../observe/schema.js';
import { stageFactories } from '../pipeline/registry.js';
import { identitySchema } from '../identity/schema.js';
import { alertsSchema } from '../observe/anomaly/schema.js';
import { upstreamSchema } from '../upstream/schema.js';
import { websocketSchema } from '../proxy/websocket-schema.js';

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
    name,
    host: { type: 'string', minLength: 1, default: '0.0.0.0' },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    segment: { ...name, default: 'external' },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certificates'],
      properties: {
        certificates: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['cert', 'key'],
            properties: {
              cert: { type: 'string', minLength: 1 },
              key: { type: 'string', minLength: 1 },
              passphrase: secretRef,
              serverNames: { type: 'array', items: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$' } },
            },
          },
        },
        clientCa: { type: 'string', minLength: 1 },
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
    name,
    match: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        host: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$' },
        path: { type: 'string', pattern: '^/' },
        methods: { type: 'array', minItems: 1, items: method },
        caseInsensitive: {
          type: 'boolean',
          default: false,
          description: 'Match the path pattern in any ASCII case (/ADMIN/users matches /admin/*). Default false: byte-exact. The path is forwarded as sent.',
        },
      },
    },
    upstream: name,
    public: { type: 'boolean', default: false },
    listeners: { type: 'array', minItems: 1, items: name },
    segments: { type: 'array', minItems: 1, items: name },
    maxBodyBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 10 * 1024 * 1024 },
    preserveHost: { type: 'boolean', default: false },
    websocket: websocketSchema,
    accessLog: accessLogSchema,
    path: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        allowSemicolon: { type: 'boolean', default: false },
        allowEncodedSlash: { type: 'boolean', default: false },
      },
    },
    stages: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['type'],
        properties: { type: { enum: stageFactories.map((f) => f.type) } },
        allOf: stageFactories.map((f) => ({ if: { properties: { type: { const: f.type } } }, then: f.schema })),
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
    listeners: { type: 'array', minItems: 1, items: listener },
    upstreams: { type: 'array', minItems: 1, items: upstreamSchema },
    routes: { type: 'array', items: route },
    trustedProxies: { type: 'array', default: [], items: { type: 'string', minLength: 2 } },
    identity: { ...identitySchema, default: {} },
    alerts: { ...alertsSchema, default: {} },
    observe: observeSchema,
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
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { maxUrlBytes: { type: 'integer', minimum: 64, maximum: 65_536, default: 8192 } },
    },
  },
} as const;
