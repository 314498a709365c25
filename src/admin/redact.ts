/**
 * The running config as GET /config shows it: every field whose name says
 * secret (token, secret, key, password, passphrase, credential, authorization,
 * auth…, cookie), every secret reference ({env} / {file}), the private members
 * of inline JWKs, passwords in URLs, and the path and query of webhook URLs
 * (a Slack-style webhook URL is itself the secret) are replaced. Redacting
 * by name errs on the side of hiding (a `keyId` goes too); a reader who needs
 * it has the file.
 */

export const REDACTED = '[redacted]';
const SECRET_NAME = /token|secret|key|passw|passphrase|credential|auth|cookie|signature/i;
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

/** Keeps scheme and host of a webhook URL; its path and query may be the credential. */
function redactWebhookUrl(s: string): string {
  try {
    return `${new URL(s).origin}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

export function redactConfig(value: unknown, depth = 0, parentKey = ''): unknown {
  if (depth > MAX_DEPTH) return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, depth + 1, parentKey));
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  if (isSecretRef(obj)) return REDACTED;
  const isJwk = typeof obj.kty === 'string';
  const out: Record<string, unknown> = {};
  const webhook = /webhook/i.test(parentKey);
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_NAME.test(k) || (isJwk && JWK_PRIVATE.has(k))) out[k] = REDACTED;
    else if (webhook && k === 'url' && typeof v === 'string') out[k] = redactWebhookUrl(v);
    else out[k] = redactConfig(v, depth + 1, k);
  }
  return out;
}
