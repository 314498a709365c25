import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import { LRUCache } from 'lru-cache';
import { resolveSecret } from '../core/secrets.js';
import type { Principal, SigningConfig } from './types.js';

export type { SigningConfig };

/**
 * Signs the verified identity as a short-lived JWT for upstream services
 * (zero trust behind the gateway too), and publishes the public key as a
 * JWKS they can verify it with. Tokens are reused for half their life per
 * (principal, audience), so a busy consumer costs one signature per 30 s,
 * not one per request.
 */
export class IdentitySigner {
  readonly jwks: string;
  private readonly key: KeyObject;
  private readonly cache = new LRUCache<string, { token: string; until: number }>({ max: 10_000 });

  private constructor(
    readonly config: SigningConfig,
    key: KeyObject,
    jwks: string,
  ) {
    this.key = key;
    this.jwks = jwks;
  }

  static async create(config: SigningConfig): Promise<IdentitySigner> {
    const key = createPrivateKey(resolveSecret(config.privateKey));
    const jwk = await exportJWK(createPublicKey(key));
    const jwks = JSON.stringify({ keys: [{ ...jwk, kid: config.keyId, alg: config.algorithm, use: 'sig' }] });
    return new IdentitySigner(config, key, jwks);
  }

  /** A cached token synchronously, or a promise of a fresh one. */
  token(p: Principal, audience: string): string | Promise<string> {
    const cacheKey = `${audience}\n${p.method}\n${p.source ?? ''}\n${p.subject}\n${p.consumer ?? ''}\n${[...p.scopes].join(' ')}\n${[...p.roles].join(' ')}`;
    const now = Date.now();
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > now) return hit.token;
    const c = this.config;
    const iat = Math.floor(now / 1000);
    return new SignJWT({
      method: p.method,
      consumer: p.consumer,
      scope: p.scopes.size > 0 ? [...p.scopes].join(' ') : undefined,
      roles: p.roles.size > 0 ? [...p.roles] : undefined,
      src: p.source,
      env: p.environment,
    })
      .setProtectedHeader({ alg: c.algorithm, kid: c.keyId, typ: 'JWT' })
      .setIssuer(c.issuer)
      .setSubject(p.subject)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + c.ttlSec)
      .sign(this.key)
      .then((token) => {
        this.cache.set(cacheKey, { token, until: now + (c.ttlSec * 1000) / 2 });
        return token;
      });
  }
}
