// The `encrypt` action: a compact JWE per value (jose) for a named recipient's
// public key, so only that recipient can read the field: ECDH-ES+A256KW for EC
// and OKP keys, RSA-OAEP-256 for RSA keys, content always A256GCM.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import type { SecretRef } from '../core/secrets.js';
import { resolveSecret } from '../core/secrets.js';

export interface RecipientSpec {
  /** A public JWK inline (public keys are not secrets). */
  jwk?: JsonWebKey & { kid?: string };
  /** A PEM public key (SPKI) from a file or the environment. */
  publicKey?: SecretRef;
  kid?: string;
}

export interface Recipient {
  readonly name: string;
  readonly key: KeyObject;
  readonly alg: 'ECDH-ES+A256KW' | 'RSA-OAEP-256';
  readonly kid?: string;
}

const encoder = new TextEncoder();

/** Loads a recipient's key, checking it is a public key jose can encrypt to; throws a readable reason. */
export function loadRecipient(name: string, spec: RecipientSpec): Recipient {
  let key: KeyObject;
  if (spec.jwk) {
    if ('d' in spec.jwk) throw new Error('jwk: a private key was given; give the public part only');
    key = createPublicKey({ key: spec.jwk, format: 'jwk' });
  } else if (spec.publicKey) {
    const pem = resolveSecret(spec.publicKey);
    if (/PRIVATE KEY/.test(pem)) throw new Error('publicKey: a private key was given; give the public part only');
    key = createPublicKey(pem);
  } else throw new Error('give jwk or publicKey');
  const type = key.asymmetricKeyType;
  let alg: Recipient['alg'];
  if (type === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('RSA keys need at least 2048 bits');
    alg = 'RSA-OAEP-256';
  } else if (type === 'ec' || type === 'x25519' || type === 'x448') alg = 'ECDH-ES+A256KW';
  else throw new Error(`a ${type} key cannot receive encrypted values (use EC P-256/384/521, X25519 or RSA)`);
  return { name, key, alg, kid: spec.kid ?? spec.jwk?.kid };
}

/** Compact JWE of `value` for `r` (enc A256GCM; `cty: pii`, with the entity when known). */
export function encryptValue(r: Recipient, value: string, entity?: string): Promise<string> {
  const header: Record<string, string> = { alg: r.alg, enc: 'A256GCM', cty: 'text/plain' };
  if (r.kid) header.kid = r.kid;
  if (entity) header['x-ztgate-entity'] = entity;
  return new CompactEncrypt(encoder.encode(value)).setProtectedHeader(header as { alg: string; enc: string }).encrypt(r.key);
}
