import { name, secretRef } from '../core/schema-parts.js';

/** JSON Schema of the top-level `identity` section and of the `identity` stage. */

const names = { type: 'array', minItems: 1, items: name };
const cidrs = { type: 'array', default: [], items: { type: 'string', minLength: 2 } };
const headerName = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$" };
const environment = { ...name, default: 'default' };
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'];

const issuer = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'issuer', 'algorithms'],
  properties: {
    name,
    environment,
    issuer: { type: 'string', minLength: 1 },
    audiences: { type: 'array', default: [], items: { type: 'string', minLength: 1 } },
    algorithms: { type: 'array', minItems: 1, items: { enum: ALGORITHMS } },
    jwksUri: { type: 'string', pattern: '^https?://' },
    discovery: { type: 'boolean' },
    jwks: { type: 'array', minItems: 1, items: { type: 'object', required: ['kty'] } },
    pemFiles: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    hmacSecret: secretRef,
    clockSkewSec: { type: 'integer', minimum: 0, maximum: 600, default: 30 },
    maxTokenAgeSec: { type: 'integer', minimum: 0, default: 0 },
    requiredClaims: { type: 'array', default: [], items: { type: 'string', minLength: 1 } },
    refreshIntervalSec: { type: 'integer', minimum: 10, maximum: 86_400, default: 300 },
    maxFetchesPerMinute: { type: 'integer', minimum: 1, maximum: 600, default: 10 },
    scopeClaim: { type: 'string', default: 'scope' },
    roleClaims: { type: 'array', default: ['roles', 'groups'], items: { type: 'string' } },
  },
};

const introspection = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'endpoint', 'clientId', 'clientSecret'],
  properties: {
    name,
    environment,
    endpoint: { type: 'string', pattern: '^https?://' },
    clientId: { type: 'string', minLength: 1 },
    clientSecret: secretRef,
    cacheMaxSec: { type: 'integer', minimum: 0, maximum: 3600, default: 60 },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 2000 },
  },
};

const consumer = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name,
    environment,
    groups: { type: 'array', default: [], items: name },
    apiKeys: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sha256'],
        properties: {
          sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the key as 64 hex digits, either case: printf %s "$KEY" | sha256sum' },
        },
      },
    },
    certificates: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          subject: { type: 'string', minLength: 1 },
          san: { type: 'string', minLength: 1 },
          spiffe: { type: 'string', pattern: '^spiffe://' },
          fingerprint256: { type: 'string', pattern: '^[0-9A-Fa-f:]{64,95}$' },
        },
      },
    },
    allowCidrs: cidrs,
    denyCidrs: cidrs,
  },
};

const signing = {
  type: 'object',
  additionalProperties: false,
  required: ['privateKey', 'keyId'],
  properties: {
    privateKey: secretRef,
    algorithm: { enum: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'], default: 'ES256' },
    keyId: { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$' },
    issuer: { type: 'string', minLength: 1, default: 'ztgate' },
    ttlSec: { type: 'integer', minimum: 10, maximum: 3600, default: 60 },
    header: { ...headerName, default: 'x-ztgate-identity' },
    jwksPath: { type: 'string', pattern: '^/[A-Za-z0-9._~/-]*$', default: '/.well-known/ztgate/jwks.json' },
  },
};

export const identitySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** The gateway's own key for signing forwarded identity (optional). */
    signing,
    issuers: { type: 'array', default: [], items: issuer },
    introspection: { type: 'array', default: [], items: introspection },
    consumers: { type: 'array', default: [], items: consumer },
    /** Client headers always removed before forwarding, besides X-Consumer-* and X-Authenticated-*. */
    stripHeaders: { type: 'array', default: [], items: headerName },
  },
};

const method = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['jwt'],
      properties: {
        jwt: {
          type: 'object',
          additionalProperties: false,
          required: ['issuers'],
          properties: { issuers: names, forwardCredentials: { type: 'boolean', description: 'Forward the credential this method verified to the upstream (default true, as before); false removes it from the request, like Kong\'s hide_credentials.' } },
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['apiKey'],
      properties: {
        apiKey: {
          type: 'object',
          additionalProperties: false,
          properties: { header: { ...headerName, default: 'x-api-key' }, query: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }, forwardCredentials: { type: 'boolean', description: 'Forward the credential this method verified to the upstream (default true, as before); false removes it from the request, like Kong\'s hide_credentials.' } },
        },
      },
    },
    { type: 'object', additionalProperties: false, required: ['mtls'], properties: { mtls: { type: 'object', additionalProperties: false } } },
    {
      type: 'object',
      additionalProperties: false,
      required: ['introspection'],
      properties: { introspection: { type: 'object', additionalProperties: false, required: ['endpoint'], properties: { endpoint: name, forwardCredentials: { type: 'boolean', description: 'Forward the credential this method verified to the upstream (default true, as before); false removes it from the request, like Kong\'s hide_credentials.' } } } },
    },
  ],
};

const matchList = {
  type: 'object',
  additionalProperties: false,
  properties: { allOf: { type: 'array', items: { type: 'string', minLength: 1 } }, anyOf: { type: 'array', items: { type: 'string', minLength: 1 } } },
};

export const identityStageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'methods'],
  properties: {
    type: { const: 'identity' },
    environment,
    /** any: the first method that finds credentials decides; all: every method must pass. */
    mode: { enum: ['any', 'all'], default: 'any' },
    methods: { type: 'array', minItems: 1, items: method },
    scopes: matchList,
    roles: matchList,
    consumers: names,
    claims: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['claim'],
        minProperties: 2,
        maxProperties: 2,
        properties: {
          claim: { type: 'string', minLength: 1 },
          equals: { type: ['string', 'number', 'boolean'] },
          in: { type: 'array', minItems: 1, items: { type: ['string', 'number', 'boolean'] } },
          equalsHeader: headerName,
        },
      },
    },
    allowCidrs: cidrs,
    denyCidrs: cidrs,
    /** When no key was ever loaded for the issuer: false (default) refuses, true lets the request pass unauthenticated. */
    failOpen: { type: 'boolean', default: false },
    propagateHeaders: { type: 'boolean', default: true },
    /** Also forward the identity as a short-lived JWT signed by the gateway (needs identity.signing). */
    propagateJwt: { type: 'boolean', default: false },
  },
};
