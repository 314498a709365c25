/**
 * JWS signature checks with node:crypto on prepared KeyObjects: synchronous,
 * one OpenSSL call per token. jose goes through WebCrypto, whose every verify
 * is a job on libuv's thread pool wrapped in promises; with a KeyObject
 * imported once, `crypto.verify` does ES256 at ~20k/s on one core of the
 * bench machine (~50 us of CPU, about what `openssl speed` gives) and never
 * leaves the calling thread. No crypto is written here: the algorithm's
 * parameters are chosen, OpenSSL verifies.
 */
import { createPublicKey, verify, constants, type KeyObject, type JsonWebKey } from 'node:crypto';
import { algFamily, keyFitsAlg, type PublicJwk } from './algorithms.js';

interface AlgParams {
  /** Digest for crypto.verify; null for EdDSA (the algorithm fixes it). */
  hash: string | null;
  /** ES*: the raw r||s signature length (RFC 7518 3.4). */
  ecSignatureBytes?: number;
  /** OpenSSL's name of the curve the key must be on. */
  curve?: string;
  /** PS*: salt length equal to the digest's (RFC 7518 3.5). */
  pssSalt?: number;
}

const PARAMS: Readonly<Record<string, AlgParams>> = Object.freeze({
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', pssSalt: 32 },
  PS384: { hash: 'sha384', pssSalt: 48 },
  PS512: { hash: 'sha512', pssSalt: 64 },
  ES256: { hash: 'sha256', ecSignatureBytes: 64, curve: 'prime256v1' },
  ES384: { hash: 'sha384', ecSignatureBytes: 96, curve: 'secp384r1' },
  ES512: { hash: 'sha512', ecSignatureBytes: 132, curve: 'secp521r1' },
  EdDSA: { hash: null },
  Ed25519: { hash: null },
});

/** RSA keys shorter than this are refused (as jose refuses them). */
export const MIN_RSA_BITS = 2048;

/** A public key prepared for one algorithm. */
export interface SigningKey {
  readonly alg: string;
  readonly key: KeyObject;
  readonly params: AlgParams;
}

/** One public key offered for a verification. */
export interface KeyRef {
  /** issuer name, kid and RFC 7638 thumbprint: stable for the same key material. */
  id: string;
  jwk: PublicJwk;
}

/**
 * Prepares `jwk` for `alg`, or says why it cannot verify it: the key type and
 * curve must fit the algorithm, private or symmetric members are refused
 * (defence in depth: the key store never hands them out), RSA keys must have
 * at least 2048 bits.
 */
export function prepareKey(jwk: PublicJwk, alg: string): SigningKey | string {
  const params = PARAMS[alg];
  const family = algFamily(alg);
  if (params === undefined || family === undefined || family === 'hmac') return `${alg} is not an asymmetric algorithm`;
  if (!keyFitsAlg(jwk, alg) || 'd' in jwk || 'k' in jwk) return `key does not fit ${alg}`;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' });
  } catch (err) {
    return `key import failed: ${(err as Error).message}`;
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (family === 'rsa' && !(key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= MIN_RSA_BITS)) {
    return `${alg} needs an RSA key of at least ${MIN_RSA_BITS} bits`;
  }
  if (family === 'ec' && !(key.asymmetricKeyType === 'ec' && details.namedCurve === params.curve)) return `key is not on the curve of ${alg}`;
  if (family === 'okp' && key.asymmetricKeyType !== 'ed25519') return `${alg} needs an Ed25519 key`;
  return { alg, key, params };
}

/**
 * Prepared keys by `${KeyRef.id}\0${alg}` (a key is bound to one algorithm's
 * parameters); an unusable key is remembered with its reason. Bounded.
 */
export class SigningKeys {
  readonly #keys = new Map<string, SigningKey | string>();
  constructor(private readonly max = 4096) {}

  get(ref: KeyRef, alg: string): SigningKey | string {
    const id = `${ref.id}\0${alg}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      if (this.#keys.size >= this.max) this.#keys.clear();
      key = prepareKey(ref.jwk, alg);
      this.#keys.set(id, key);
    }
    return key;
  }
}

/**
 * Whether the compact `token`'s signature is `key`'s over its first two parts.
 * The token's structure (three base64url parts) is checked by the caller.
 */
export function signatureValid(token: string, key: SigningKey): boolean {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return false;
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const p = key.params;
  if (p.ecSignatureBytes !== undefined && signature.length !== p.ecSignatureBytes) return false;
  // The signing input is ASCII (base64url and one dot).
  const input = Buffer.from(token.slice(0, dot), 'latin1');
  try {
    if (p.ecSignatureBytes !== undefined) return verify(p.hash, input, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
    if (p.pssSalt !== undefined) {
      return verify(p.hash, input, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.pssSalt }, signature);
    }
    if (p.hash === null) return verify(null, input, key.key, signature);
    return verify(p.hash, input, { key: key.key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    // OpenSSL refuses malformed signatures (wrong length for the key, bad encoding) by throwing.
    return false;
  }
}

/**
 * The first of `refs` (at most `max`) whose key verifies `token` for `alg`:
 * true, or why none did.
 */
export function checkSignature(token: string, alg: string, refs: readonly KeyRef[], keys: SigningKeys, max: number): true | string {
  let last = 'no key';
  const n = Math.min(refs.length, max);
  for (let i = 0; i < n; i++) {
    const key = keys.get(refs[i]!, alg);
    if (typeof key === 'string') {
      last = key;
      continue;
    }
    if (signatureValid(token, key)) return true;
    last = 'signature verification failed';
  }
  return last;
}
