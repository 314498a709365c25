import type { SecretRef } from '../core/secrets.js';

/** Who a request is, once one authentication method has verified it. */
export interface Principal {
  readonly method: 'jwt' | 'apiKey' | 'mtls' | 'introspection';
  /** `sub` of a token, or the configured consumer name. */
  readonly subject: string;
  /** The configured consumer this principal maps to, if any. */
  readonly consumer?: string;
  /** Name of the issuer / introspection endpoint config that vouched for it. */
  readonly source?: string;
  readonly environment: string;
  readonly scopes: ReadonlySet<string>;
  /** Roles and groups (token `roles`/`groups` claims, or the consumer's groups). */
  readonly roles: ReadonlySet<string>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** Epoch seconds after which this principal must not be reused from a cache. */
  readonly expiresAt?: number;
}

/** RFC 6750 error codes; the reason goes to the log only. */
export type AuthFailure =
  | { ok: false; error: 'invalid_request'; reason: string }
  | { ok: false; error: 'invalid_token'; reason: string }
  /** No key was ever loaded for the issuer (the route decides: fail closed or open). */
  | { ok: false; error: 'unavailable'; reason: string };

export type AuthResult = { ok: true; principal: Principal } | AuthFailure;

/** The `identity.issuers[]` config entry (JWT). Exactly one key source is set. */
export interface IssuerConfig {
  name: string;
  environment: string;
  /** Expected `iss`. */
  issuer: string;
  /** `aud` must contain one of these (when non-empty). */
  audiences: string[];
  /** Allowed `alg` values; never `none`. HS* only when hmacSecret is set. */
  algorithms: string[];
  jwksUri?: string;
  /** Use `{issuer}/.well-known/openid-configuration` to find jwks_uri. */
  discovery?: boolean;
  /** Inline public keys as JWK objects. */
  jwks?: Record<string, unknown>[];
  /** PEM files (SPKI public keys or certificates). */
  pemFiles?: string[];
  hmacSecret?: SecretRef;
  clockSkewSec: number;
  /** Maximum age from `iat`; 0 = not checked. */
  maxTokenAgeSec: number;
  requiredClaims: string[];
  /** Background JWKS refresh period. */
  refreshIntervalSec: number;
  /** Cap on JWKS fetches per minute (unknown-kid refetches included). */
  maxFetchesPerMinute: number;
  /** Claim holding the scopes (space-separated string or array). */
  scopeClaim: string;
  /** Claims holding roles/groups (arrays or strings). */
  roleClaims: string[];
}

export interface IntrospectionConfig {
  name: string;
  environment: string;
  /** RFC 7662 endpoint. */
  endpoint: string;
  clientId: string;
  clientSecret: SecretRef;
  /** Upper bound on caching an answer (also never past the token's exp). */
  cacheMaxSec: number;
  timeoutMs: number;
}

export interface ConsumerConfig {
  name: string;
  environment: string;
  groups: string[];
  /** SHA-256 hex digests of this consumer's API keys. */
  apiKeys: { sha256: string }[];
  /** Client certificate matchers: any one matching maps the certificate to this consumer. */
  certificates: { subject?: string; san?: string; spiffe?: string; fingerprint256?: string }[];
  allowCidrs: string[];
  denyCidrs: string[];
}

/** The gateway's own signing key for the identity it vouches for upstream (identity.signing). */
export interface SigningConfig {
  privateKey: SecretRef;
  algorithm: 'ES256' | 'ES384' | 'EdDSA' | 'RS256' | 'PS256';
  keyId: string;
  issuer: string;
  ttlSec: number;
  /** Header the signed identity travels in. */
  header: string;
  /** Path on every listener where the public key is published as a JWKS. */
  jwksPath: string;
}

/** The `identity` section (after schema validation). */
export interface IdentitySection {
  signing?: SigningConfig;
  issuers: IssuerConfig[];
  introspection: IntrospectionConfig[];
  consumers: ConsumerConfig[];
  /** Client headers always removed before forwarding, besides X-Consumer-* and X-Authenticated-*. */
  stripHeaders: string[];
}
