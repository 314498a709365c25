/**
 * JWS algorithm families and which public keys each may use.
 *
 * Keys are typed per family: an RSA key is only ever offered to RS and PS
 * algorithms, an EC key only to the ES algorithm of its curve, an OKP key only
 * to EdDSA, and HS algorithms only ever get the issuer's configured HMAC
 * secret. So the classic confusion (an RSA public key used as an HMAC secret)
 * cannot be expressed.
 */

export type AlgFamily = 'hmac' | 'rsa' | 'ec' | 'okp';

/** Every algorithm this gateway can verify, by exact (case-sensitive) name. */
const FAMILY: Readonly<Record<string, AlgFamily>> = Object.freeze({
  HS256: 'hmac',
  HS384: 'hmac',
  HS512: 'hmac',
  RS256: 'rsa',
  RS384: 'rsa',
  RS512: 'rsa',
  PS256: 'rsa',
  PS384: 'rsa',
  PS512: 'rsa',
  ES256: 'ec',
  ES384: 'ec',
  ES512: 'ec',
  EdDSA: 'okp',
  Ed25519: 'okp',
});

const EC_CURVE: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** The family of a supported algorithm; undefined for anything else (including every casing of `none`). */
export function algFamily(alg: string): AlgFamily | undefined {
  return Object.hasOwn(FAMILY, alg) ? FAMILY[alg] : undefined;
}

export function isAsymmetric(alg: string): boolean {
  const family = algFamily(alg);
  return family !== undefined && family !== 'hmac';
}

/** The public-JWK fields a key may carry into the store (everything else is dropped). */
export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  n?: string;
  e?: string;
  x?: string;
  y?: string;
}

/** Whether `jwk` may verify a token signed with `alg`. */
export function keyFitsAlg(jwk: PublicJwk, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  switch (algFamily(alg)) {
    case 'rsa':
      return jwk.kty === 'RSA';
    case 'ec':
      return jwk.kty === 'EC' && jwk.crv === EC_CURVE[alg];
    case 'okp':
      // jose 6 verifies Ed25519 only (no Ed448).
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    default:
      return false;
  }
}
