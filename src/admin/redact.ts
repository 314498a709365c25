/**
 * The running config as GET /config shows it: every field whose name says
 * secret (token, secret, key, password, passphrase, credential, authorization,
 * cookie), every secret reference ({env} / {file}), the private members of
 * inline JWKs, and passwords in URLs are replaced by "[redacted]". Redacting
 * by name errs on the side of hiding (a `keyId` goes too); a reader who needs
 * it has the file.
 */

export const REDACTED = '[redacted]';
const SECRET_NAME = /token|secret|key|passw|passphrase|credential|authorization|cookie|signature/i;
/** Private (and symmetric) JWK members (RFC 7518 §6). */
const JWK_PRIVATE = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);
const MAX_DEPTH = 64;

function isSecretRef(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'env' || keys[0] === 'file') && typeof v[keys[0]] === 'string';
}

function redactUrl(s: string): string {
  // scheme://user:password@host → scheme://user:[redacted]@host
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i, `$1:${REDACTED}@`);
}

export function redactConfig(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  if (isSecretRef(obj)) return REDACTED;
  const isJwk = typeof obj.kty === 'string';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = SECRET_NAME.test(k) || (isJwk && JWK_PRIVATE.has(k)) ? REDACTED : redactConfig(v, depth + 1);
  }
  return out;
}
