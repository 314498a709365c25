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
    name: { ...name, description: 'Unique name of the issuer; identity stages name it in `methods[].jwt.issuers`.' },
    environment: { ...environment, description: 'Environment (for example `prod` or `staging`) the issuer belongs to; only identity stages of the same environment accept its tokens, so a test credential never opens a production route.' },
    issuer: { type: 'string', minLength: 1, description: 'Exact `iss` claim tokens must carry.' },
    audiences: { type: 'array', default: [], items: { type: 'string', minLength: 1 }, description: 'Accepted `aud` values: a token must name at least one. Empty: `aud` is not checked.' },
    algorithms: { type: 'array', minItems: 1, items: { enum: ALGORITHMS }, description: 'Signature algorithms accepted in the token header (`none` never is). HS256/384/512 need `hmacSecret` and cannot be mixed with public-key algorithms.' },
    jwksUri: { type: 'string', pattern: '^https?://', description: 'URL of the issuer\'s JWKS. Keys are fetched at start, refreshed in the background and refetched (capped) for an unknown `kid`; a failed refresh keeps the cached keys. One of the five key sources.' },
    discovery: { type: 'boolean', description: 'Find the JWKS URL in `{issuer}/.well-known/openid-configuration` (OpenID Connect discovery), which must name the same issuer. One of the five key sources.' },
    jwks: { type: 'array', minItems: 1, items: { type: 'object', required: ['kty'] }, description: 'Public keys written inline as JWK objects. One of the five key sources.' },
    pemFiles: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Paths of PEM files holding public keys (SPKI) or certificates, relative to the config file. One of the five key sources.' },
    hmacSecret: { ...secretRef, description: 'Shared secret of at least 32 bytes for HS* tokens. One of the five key sources.' },
    clockSkewSec: { type: 'integer', minimum: 0, maximum: 600, default: 30, description: 'Seconds of clock difference tolerated when checking `exp`, `nbf` and `iat`.' },
    maxTokenAgeSec: { type: 'integer', minimum: 0, default: 0, description: 'Refuse tokens whose `iat` is older than this many seconds (`iat` is then required). 0: age is not checked, only `exp`.' },
    requiredClaims: { type: 'array', default: [], items: { type: 'string', minLength: 1 }, description: 'Claims a token must carry besides `exp` and `iss`, which are always required.' },
    refreshIntervalSec: { type: 'integer', minimum: 10, maximum: 86_400, default: 300, description: 'Seconds between background refreshes of a fetched key set (`jwksUri` or `discovery`).' },
    maxFetchesPerMinute: { type: 'integer', minimum: 1, maximum: 600, default: 10, description: 'Most JWKS and discovery fetches per minute, refetches for unknown `kid`s included; beyond it unknown keys fail at once, so random `kid`s cannot flood the issuer.' },
    scopeClaim: { type: 'string', default: 'scope', description: 'Claim holding the scopes, a space-separated string or a list; a dotted name (`realm.scope`) reaches into nested objects.' },
    roleClaims: { type: 'array', default: ['roles', 'groups'], items: { type: 'string' }, description: 'Claims holding roles and groups (lists or strings), merged; dotted names reach into nested objects (`realm_access.roles`).' },
  },
};

const introspection = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'endpoint', 'clientId', 'clientSecret'],
  properties: {
    name: { ...name, description: 'Unique name of the endpoint; identity stages name it in `methods[].introspection.endpoint`.' },
    environment: { ...environment, description: 'Environment (for example `prod` or `staging`) the endpoint belongs to; only identity stages of the same environment accept the tokens it vouches for, so a test credential never opens a production route.' },
    endpoint: { type: 'string', pattern: '^https?://', description: 'URL of the OAuth 2.0 token introspection endpoint (RFC 7662) that opaque bearer tokens are POSTed to.' },
    clientId: { type: 'string', minLength: 1, description: 'Client ID the gateway authenticates to the endpoint with (HTTP Basic).' },
    clientSecret: { ...secretRef, description: 'Client secret sent with `clientId` (HTTP Basic).' },
    cacheMaxSec: { type: 'integer', minimum: 0, maximum: 3600, default: 60, description: 'Longest time in seconds an answer (active or not) is reused for the same token; never past the token\'s `exp`. 0: every request asks the endpoint.' },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 2000, description: 'Milliseconds one introspection request may take; a slower or failed endpoint leaves the token unchecked: 503, unless the stage has `failOpen`.' },
  },
};

const consumer = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { ...name, description: 'Unique name of the consumer: sent upstream in `x-consumer-id`, matched by `consumers` of identity stages, and the key of per-consumer rate limits.' },
    environment: { ...environment, description: 'Environment (for example `prod` or `staging`) the consumer belongs to; only identity stages of the same environment accept its credentials, so a test credential never opens a production route.' },
    groups: { type: 'array', default: [], items: name, description: 'Roles of the consumer when it authenticates by API key or client certificate; identity stages check them with `roles`.' },
    apiKeys: {
      description: 'API keys of the consumer, stored only as digests.',
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
      description: 'Client certificates (mutual TLS) that authenticate as this consumer; a certificate matching any one entry does. The listener\'s `clientCa` has already verified the chain.',
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          subject: { type: 'string', minLength: 1, description: 'Exact subject DN in certificate order, such as `CN=client,O=example` (a space after a comma is accepted).' },
          san: { type: 'string', minLength: 1, description: 'A subject alternative name the certificate must hold: a DNS name (case-insensitive), an email or an IP address, optionally prefixed `DNS:`, `email:` or `IP:`.' },
          spiffe: { type: 'string', pattern: '^spiffe://', description: 'Exact SPIFFE ID; matches a certificate whose only URI SAN is this ID (an X.509-SVID).' },
          fingerprint256: { type: 'string', pattern: '^[0-9A-Fa-f:]{64,95}$', description: 'SHA-256 fingerprint of the certificate (DER) in hex, either case, colons optional.' },
        },
      },
    },
    allowCidrs: { ...cidrs, description: 'Addresses or CIDR ranges the consumer may call from; empty: any address. A call from elsewhere is refused with 403.' },
    denyCidrs: { ...cidrs, description: 'Addresses or CIDR ranges the consumer may never call from (403), checked before `allowCidrs`.' },
  },
};

const signing = {
  description: 'The gateway\'s own signing key: identity stages with `propagateJwt` forward the verified identity upstream as a short-lived JWT signed with it, and its public key is served as a JWKS on every listener.',
  type: 'object',
  additionalProperties: false,
  required: ['privateKey', 'keyId'],
  properties: {
    privateKey: { ...secretRef, description: 'PEM private key to sign with; its type must fit `algorithm` (EC for ES*, Ed25519 for EdDSA, RSA for RS256/PS256).' },
    algorithm: { enum: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'], default: 'ES256', description: 'Signature algorithm of the forwarded tokens.' },
    keyId: { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$', description: 'The `kid` of the key in tokens and in the published JWKS; change it when you rotate the key.' },
    issuer: { type: 'string', minLength: 1, default: 'ztgate', description: 'The `iss` claim of forwarded tokens; the `aud` claim is the upstream\'s name.' },
    ttlSec: { type: 'integer', minimum: 10, maximum: 3600, default: 60, description: 'Lifetime of a forwarded token in seconds; a token is reused for half of it for the same identity and upstream.' },
    header: { ...headerName, default: 'x-ztgate-identity', description: 'Request header (lower case) the signed token is sent upstream in.' },
    jwksPath: { type: 'string', pattern: '^/[A-Za-z0-9._~/-]*$', default: '/.well-known/ztgate/jwks.json', description: 'Path on every listener where the public key is served as a JWKS (GET or HEAD), for upstreams to verify the tokens with.' },
  },
};

export const identitySchema = {
  description: 'Who may call: JWT issuers, token introspection endpoints and consumers (API keys, client certificates) that identity stages refer to by name.',
  type: 'object',
  additionalProperties: false,
  properties: {
    /** The gateway's own key for signing forwarded identity (optional). */
    signing,
    issuers: { type: 'array', default: [], items: issuer, description: 'JWT issuers and where their keys come from; each needs exactly one key source (`jwksUri`, `discovery`, `jwks`, `pemFiles` or `hmacSecret`).' },
    introspection: { type: 'array', default: [], items: introspection, description: 'OAuth 2.0 introspection endpoints for opaque tokens.' },
    consumers: { type: 'array', default: [], items: consumer, description: 'Known callers, with their API keys, client certificates and networks.' },
    /** Client headers always removed before forwarding, besides X-Consumer-* and X-Authenticated-*. */
    stripHeaders: { type: 'array', default: [], items: headerName, description: 'Client request headers (lower case) removed on every route before forwarding; `x-consumer-*` and `x-authenticated-*` are always removed, so a client cannot forge them.' },
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
          description: 'A JWT in `Authorization: Bearer`, verified against the named issuers\' keys and claim rules.',
          type: 'object',
          additionalProperties: false,
          required: ['issuers'],
          properties: {
            issuers: { ...names, description: 'Names of the `identity.issuers` whose tokens are accepted; the token\'s `iss` picks among them.' },
            forwardCredentials: { type: 'boolean', description: 'Forward the credential this method verified to the upstream (default true, as before); false removes it from the request, like Kong\'s hide_credentials.' },
          },
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['apiKey'],
      properties: {
        apiKey: {
          description: 'An API key of one of `identity.consumers`, compared by its SHA-256 digest.',
          type: 'object',
          additionalProperties: false,
          properties: {
            header: { ...headerName, default: 'x-api-key', description: 'Request header (lower case) carrying the key; two such headers are refused.' },
            query: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Query parameter read for the key when the header is absent. Keys in URLs end up in logs and histories: prefer the header.' },
            forwardCredentials: { type: 'boolean', description: 'Forward the credential this method verified to the upstream (default true, as before); false removes it from the request, like Kong\'s hide_credentials.' },
          },
        },
      },
    },
    { type: 'object', additionalProperties: false, required: ['mtls'], properties: { mtls: { type: 'object', additionalProperties: false, description: 'The client certificate of a mutual-TLS listener (`clientCa`), mapped to a consumer by its `certificates`. Write `mtls: {}`.' } } },
    {
      type: 'object',
      additionalProperties: false,
      required: ['introspection'],
      properties: {
        introspection: {
          type: 'object',
          additionalProperties: false,
          required: ['endpoint'],
          properties: { endpoint: { ...name, description: 'Name of the `identity.introspection` endpoint to ask.' }, forwardCredentials: { type: 'boolean', description: 'Forward the credential this method verified to the upstream (default true, as before); false removes it from the request, like Kong\'s hide_credentials.' } },
          description: 'An opaque bearer token in `Authorization: Bearer`, checked by an introspection endpoint.',
        },
      },
    },
  ],
};

const matchList = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allOf: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'The caller must hold every one of these.' },
    anyOf: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'The caller must hold at least one of these (an empty list asks nothing).' },
  },
};

export const identityStageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'methods'],
  properties: {
    type: { const: 'identity', description: 'Selects the identity stage.' },
    environment: { ...environment, description: 'Environment of the route: credentials from issuers, endpoints or consumers of another environment are refused with 401.' },
    /** any: the first method that finds credentials decides; all: every method must pass. */
    mode: { enum: ['any', 'all'], default: 'any', description: '`any`: the first method whose credentials the request carries decides (a bad token never falls through to a weaker method). `all`: every method must pass, and credentials naming two different consumers are refused.' },
    methods: { type: 'array', minItems: 1, items: method, description: 'How callers authenticate, in order: `jwt`, `apiKey`, `mtls` or `introspection`. A request with no credentials gets 401.' },
    scopes: { ...matchList, description: 'Scopes the caller must hold (from the token\'s scope claim); otherwise 403 with `insufficient_scope`.' },
    roles: { ...matchList, description: 'Roles or groups the caller must hold (token role claims, or the consumer\'s `groups`); otherwise 403.' },
    consumers: { ...names, description: 'Only these consumers may call the route (403 for others, and for callers that map to no consumer).' },
    claims: {
      description: 'Claim checks on the caller\'s token; every one must pass or the request gets 403. Each names a `claim` and one test.',
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['claim'],
        minProperties: 2,
        maxProperties: 2,
        properties: {
          claim: { type: 'string', minLength: 1, description: 'Name of the claim to test.' },
          equals: { type: ['string', 'number', 'boolean'], description: 'The claim must be exactly this value.' },
          in: { type: 'array', minItems: 1, items: { type: ['string', 'number', 'boolean'] }, description: 'The claim must be one of these values.' },
          equalsHeader: { ...headerName, description: 'The claim must equal this request header\'s value (lower-case name), for example so a token of one tenant cannot ask in the name of another.' },
        },
      },
    },
    allowCidrs: { ...cidrs, description: 'Client addresses or CIDR ranges that may call the route, checked before any credential; empty: any address. Others get 403.' },
    denyCidrs: { ...cidrs, description: 'Client addresses or CIDR ranges refused with 403 before any credential is looked at.' },
    /** When no key was ever loaded for the issuer: false (default) refuses, true lets the request pass unauthenticated. */
    failOpen: { type: 'boolean', default: false, description: 'When credentials cannot be checked (no key was ever loaded for the issuer, or the introspection endpoint fails): `false` refuses with 503 and `Retry-After`, `true` lets the request pass unauthenticated.' },
    propagateHeaders: { type: 'boolean', default: true, description: 'Tell the upstream who called: `x-authenticated-method`, `x-authenticated-subject`, `x-authenticated-source`, `x-authenticated-scopes`, `x-consumer-id` and `x-consumer-groups`.' },
    /** Also forward the identity as a short-lived JWT signed by the gateway (needs identity.signing). */
    propagateJwt: { type: 'boolean', default: false, description: 'Also send the verified identity upstream as a short-lived JWT signed by the gateway (needs `identity.signing`), so the upstream can verify it.' },
  },
};
