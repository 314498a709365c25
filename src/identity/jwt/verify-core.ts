/**
 * Signature and claim verification with jose, shared by the worker threads
 * (asymmetric algorithms) and the main thread (HMAC, or every algorithm when
 * the verifier runs without workers). No crypto is written here: jose's
 * `jwtVerify` checks the signature and the registered claims.
 */
import { importJWK, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { algFamily, keyFitsAlg, type PublicJwk } from './algorithms.js';

/** The claim rules of one issuer (plain data: it is copied into each worker). */
export interface ClaimRules {
  /** Expected `iss`. */
  issuer: string;
  audiences: string[];
  clockSkewSec: number;
  maxTokenAgeSec: number;
  requiredClaims: string[];
}

/** One public key offered for a verification. */
export interface KeyRef {
  /** issuer name, kid and RFC 7638 thumbprint: stable for the same key material. */
  id: string;
  jwk: PublicJwk;
}

/** One verification as sent to a worker. */
export interface VerifyItem {
  /** The compact token. */
  t: string;
  /** Issuer config name (selects the ClaimRules). */
  i: string;
  /** The `alg` from the header, already checked against the issuer's allowlist. */
  a: string;
  /** Candidate keys, tried in order (several only for tokens without a matching kid). */
  k: KeyRef[];
}

export type VerifyOutcome = { ok: true; payload: JWTPayload } | { ok: false; reason: string };

/** `workerData` of the verify pool. */
export interface VerifyWorkerData {
  rules: Record<string, ClaimRules>;
}

/** At most this many candidate keys are tried for one token. */
export const MAX_CANDIDATE_KEYS = 4;

/**
 * Imported CryptoKeys by `${KeyRef.id}\0${alg}`: a WebCrypto key is bound to
 * one algorithm, and importing costs about as much as a verification.
 */
export class KeyImporter {
  readonly #keys = new Map<string, Promise<CryptoKey>>();
  constructor(private readonly max = 4096) {}

  get(ref: KeyRef, alg: string): Promise<CryptoKey> {
    const id = `${ref.id}\0${alg}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      // Defence in depth: the store never hands out symmetric or private JWKs,
      // and importJWK would turn a kty "oct" JWK into raw HMAC key bytes.
      if (!keyFitsAlg(ref.jwk, alg) || 'd' in ref.jwk || 'k' in ref.jwk) {
        return Promise.reject(new Error(`key ${ref.id} does not fit ${alg}`));
      }
      if (this.#keys.size >= this.max) this.#keys.clear();
      key = importJWK({ ...ref.jwk, ext: false }, alg) as Promise<CryptoKey>;
      this.#keys.set(id, key);
      key.catch(() => this.#keys.delete(id));
    }
    return key;
  }
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' ? `${e.code}: ${String(e.message)}` : String(e?.message ?? err);
}

/** jwtVerify with the issuer's rules, plus what jose leaves optional. */
export async function verifyWithKey(
  token: string,
  key: CryptoKey | Uint8Array,
  alg: string,
  rules: ClaimRules,
): Promise<VerifyOutcome> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [alg],
      issuer: rules.issuer,
      audience: rules.audiences.length > 0 ? rules.audiences : undefined,
      clockTolerance: rules.clockSkewSec,
      maxTokenAge: rules.maxTokenAgeSec > 0 ? rules.maxTokenAgeSec : undefined,
      // exp is mandatory here: a token that never expires is never accepted.
      requiredClaims: ['exp', ...rules.requiredClaims],
    }));
  } catch (err) {
    return { ok: false, reason: describe(err) };
  }
  // jose checks iat against the clock only when maxTokenAge is set.
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat === 'number' && payload.iat > now + rules.clockSkewSec) {
    return { ok: false, reason: 'iat is in the future' };
  }
  if (typeof payload.exp !== 'number') return { ok: false, reason: 'exp is not a number' };
  return { ok: true, payload };
}

/** Verifies one item against its candidate keys (first signature match wins). */
export async function verifyItem(
  item: VerifyItem,
  rules: ReadonlyMap<string, ClaimRules>,
  importer: KeyImporter,
): Promise<VerifyOutcome> {
  const issuerRules = rules.get(item.i);
  if (issuerRules === undefined) return { ok: false, reason: `no rules for issuer ${item.i}` };
  const family = algFamily(item.a);
  if (family === undefined || family === 'hmac') return { ok: false, reason: `${item.a} is not an asymmetric algorithm` };
  let last: VerifyOutcome = { ok: false, reason: 'no key' };
  for (const ref of item.k.slice(0, MAX_CANDIDATE_KEYS)) {
    let key: CryptoKey;
    try {
      key = await importer.get(ref, item.a);
    } catch (err) {
      last = { ok: false, reason: `key import failed: ${describe(err)}` };
      continue;
    }
    last = await verifyWithKey(item.t, key, item.a, issuerRules);
    // Only a signature mismatch makes another candidate worth trying.
    if (last.ok || !last.reason.startsWith('ERR_JWS_SIGNATURE_VERIFICATION_FAILED')) return last;
  }
  return last;
}
