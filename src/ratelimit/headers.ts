import type { Decision, Limit } from './gcra.js';

/**
 * Response headers for rate limits: `Retry-After` (RFC 9110) and the
 * `RateLimit-Policy` / `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers
 * (revision 10): Structured Field lists whose items are a quoted policy name
 * with parameters, e.g.
 *   RateLimit-Policy: "burst";q=20;w=1, "hourly";q=5000;w=3600
 *   RateLimit: "burst";r=0;t=1
 * No partition key (pk) is sent: it would reveal how clients are grouped.
 */

/** A Structured Field String: ASCII printable, with `"` and `\` escaped. */
export function sfString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) continue; // not representable in an sf-string: dropped
    const ch = value[i];
    out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  }
  return `${out}"`;
}

/** Whole seconds, rounded up, at least `min` (an SF Integer, capped to its 15 digits). */
export function seconds(ms: number, min = 0): number {
  if (!Number.isFinite(ms)) return 999_999_999_999_999;
  const s = Math.ceil(ms / 1000 - 1e-9);
  return Math.min(999_999_999_999_999, Math.max(min, s));
}

/** `RateLimit-Policy` value for a set of limits: quota q per window w (seconds). */
export function rateLimitPolicy(limits: readonly Limit[]): string {
  return limits.map((l) => `${sfString(l.name)};q=${Math.floor(l.count)};w=${seconds(l.periodMs, 1)}`).join(', ');
}

/**
 * `RateLimit` value for the limit a decision names: r = units left, t = seconds
 * until the quota is available again (when refused: the same as Retry-After;
 * when admitted: until the bucket is full).
 */
export function rateLimitField(limit: Limit, decision: Decision): string {
  const t = decision.allowed ? seconds(decision.resetMs) : seconds(decision.retryAfterMs, 1);
  return `${sfString(limit.name)};r=${Math.max(0, Math.floor(decision.remaining))};t=${t}`;
}

/** `Retry-After` in delay-seconds, at least 1. */
export function retryAfter(decision: Decision): string {
  return String(seconds(decision.retryAfterMs, 1));
}

/**
 * The headers for an answer: on a refusal Retry-After plus both draft fields;
 * on an admitted request (when the route sends them) only the draft fields.
 * `policyValue` is `rateLimitPolicy(limits)`, computed once per route.
 */
export function limitHeaders(limits: readonly Limit[], policyValue: string, decision: Decision): [string, string][] {
  const limit = limits[decision.limitIndex];
  const headers: [string, string][] = [
    ['ratelimit-policy', policyValue],
    ['ratelimit', rateLimitField(limit, decision)],
  ];
  if (!decision.allowed) headers.unshift(['retry-after', retryAfter(decision)]);
  return headers;
}
