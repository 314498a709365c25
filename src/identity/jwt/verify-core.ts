/**
 * What the worker threads and the main thread share: the claim rules of an
 * issuer, the shape of a batch of signature checks, and the HMAC path (jose's
 * `jwtVerify`, which checks the signature and the registered claims). No
 * crypto is written here.
 */
import { jwtVerify, type JWTPayload } from 'jose';
import { checkSignature, SigningKeys, type KeyRef } from './signature.js';

export type { KeyRef } from './signature.js';

/** The claim rules of one issuer. */
export interface ClaimRules {
  /** Expected `iss`. */
  issuer: string;
  audiences: string[];
  clockSkewSec: number;
  maxTokenAgeSec: number;
  requiredClaims: string[];
}

/** At most this many candidate keys are tried for one token. */
export const MAX_CANDIDATE_KEYS = 4;

/**
 * One pool task: signature checks only (claims are checked on the main
 * thread, from the payload it already decoded). Keys travel once per batch,
 * items name them by index: a batch of tokens of one issuer clones one JWK.
 */
export interface SignatureBatch {
  keys: KeyRef[];
  /** Per token: the compact token, its alg, indices into `keys` (candidates in order). */
  items: Array<[token: string, alg: string, keys: number[]]>;
}

/** Per item of a batch: true when a candidate key verified the signature, else why not. */
export type SignatureOutcome = true | string;

/** The worker side of a batch, with the worker's prepared keys. */
export function checkBatch(batch: SignatureBatch, keys: SigningKeys): SignatureOutcome[] {
  const out: SignatureOutcome[] = new Array(batch.items.length);
  for (let i = 0; i < batch.items.length; i++) {
    const [token, alg, idx] = batch.items[i]!;
    const refs: KeyRef[] = [];
    for (const k of idx) {
      const ref = batch.keys[k];
      if (ref !== undefined) refs.push(ref);
    }
    out[i] = checkSignature(token, alg, refs, keys, MAX_CANDIDATE_KEYS);
  }
  return out;
}

export type VerifyOutcome = { ok: true; payload: JWTPayload } | { ok: false; reason: string };

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' ? `${e.code}: ${String(e.message)}` : String(e?.message ?? err);
}

/** HMAC: jwtVerify with the issuer's rules, plus what jose leaves optional. */
export async function verifyWithKey(token: string, key: Uint8Array, alg: string, rules: ClaimRules): Promise<VerifyOutcome> {
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
