/**
 * The registered-claim checks of one issuer, on the decoded payload: what
 * jose's `jwtVerify` checks with the options the verifier always gave it
 * (issuer, audience, clockTolerance, maxTokenAge, requiredClaims with `exp`),
 * plus what jose leaves optional (an `iat` in the future, `exp` a number).
 * Run on the main thread before any signature work, so an expired or foreign
 * token costs no crypto; the signature is then checked over the very bytes
 * this payload was decoded from. test/identity/jwt-claims.test.ts holds the
 * two to the same answers.
 */
import type { ClaimRules } from './verify-core.js';

function audienceMatches(aud: unknown, wanted: readonly string[]): boolean {
  if (typeof aud === 'string') return wanted.includes(aud);
  if (Array.isArray(aud)) return wanted.some((w) => aud.includes(w));
  return false;
}

/** Undefined when `payload` passes `rules` at `now` (epoch seconds), else why not. */
export function claimsProblem(payload: Record<string, unknown>, rules: ClaimRules, now: number): string | undefined {
  const skew = rules.clockSkewSec;
  if (!('exp' in payload)) return 'missing required "exp" claim';
  for (const claim of rules.requiredClaims) if (!(claim in payload)) return `missing required "${claim}" claim`;
  if (rules.maxTokenAgeSec > 0 && !('iat' in payload)) return 'missing required "iat" claim';
  if (rules.audiences.length > 0 && !('aud' in payload)) return 'missing required "aud" claim';
  if (!('iss' in payload)) return 'missing required "iss" claim';
  if (payload.iss !== rules.issuer) return 'unexpected "iss" claim value';
  if (rules.audiences.length > 0 && !audienceMatches(payload.aud, rules.audiences)) return 'unexpected "aud" claim value';

  const { iat, nbf, exp } = payload;
  if ((iat !== undefined || rules.maxTokenAgeSec > 0) && typeof iat !== 'number') return '"iat" claim must be a number';
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') return '"nbf" claim must be a number';
    if (nbf > now + skew) return '"nbf" claim timestamp check failed';
  }
  if (typeof exp !== 'number') return '"exp" claim must be a number';
  if (exp <= now - skew) return '"exp" claim timestamp check failed';
  if (typeof iat === 'number') {
    if (iat > now + skew) return 'iat is in the future';
    if (rules.maxTokenAgeSec > 0 && now - iat - skew > rules.maxTokenAgeSec) return '"iat" claim timestamp check failed (too far in the past)';
  }
  return undefined;
}
