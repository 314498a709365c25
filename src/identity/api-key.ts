import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthResult, ConsumerConfig, Principal } from './types.js';

/** Longest key accepted; anything longer is refused before it is hashed. */
export const MAX_API_KEY_LENGTH = 512;

/** Printable ASCII, space included (0x20-0x7e); keys travel in headers and query strings. */
const PRINTABLE = /^[\x20-\x7e]+$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** SHA-256 of the key's UTF-8 bytes as lowercase hex: the form stored in `consumers[].apiKeys[].sha256`. */
export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

interface KeyEntry {
  /** The configured digest as 32 bytes, compared with timingSafeEqual. */
  readonly digest: Buffer;
  readonly principal: Principal;
}

const NO_SCOPES: ReadonlySet<string> = Object.freeze(new Set<string>());

/**
 * API keys. The config holds only SHA-256 digests; a presented key is hashed and
 * looked up by digest, then confirmed with a constant-time comparison of the
 * digest bytes. The lookup is keyed by the digest, never by the key itself, so
 * its timing depends on the hash of the key and not on how many leading
 * characters of a real key an attacker has guessed.
 *
 * Principals are built once at construction (they are immutable), so a hit
 * costs one SHA-256 and one Map lookup.
 */
export class ApiKeyAuthenticator {
  readonly #byDigest = new Map<string, KeyEntry>();

  /** Throws when a digest is not 64 hex characters or is configured on two consumers. */
  constructor(consumers: ConsumerConfig[]) {
    consumers.forEach((consumer, index) => {
      const principal: Principal = Object.freeze({
        method: 'apiKey',
        subject: consumer.name,
        consumer: consumer.name,
        environment: consumer.environment,
        scopes: NO_SCOPES,
        roles: Object.freeze(new Set(consumer.groups)),
        claims: Object.freeze({}),
      });
      consumer.apiKeys.forEach((k, i) => {
        const hex = k.sha256.trim().toLowerCase();
        if (!HEX_DIGEST.test(hex)) {
          throw new Error(`identity.consumers[${index}].apiKeys[${i}].sha256: not a SHA-256 hex digest (64 hex characters)`);
        }
        const existing = this.#byDigest.get(hex);
        if (existing) {
          // Same key on two consumers: which one a request maps to would be arbitrary.
          throw new Error(`identity.consumers[${index}].apiKeys[${i}]: also a key of consumer "${existing.principal.consumer}"`);
        }
        this.#byDigest.set(hex, { digest: Buffer.from(hex, 'hex'), principal });
      });
    });
  }

  /** Number of configured keys. */
  get size(): number {
    return this.#byDigest.size;
  }

  authenticate(key: string): AuthResult {
    if (typeof key !== 'string' || key.length === 0) return { ok: false, error: 'invalid_request', reason: 'empty API key' };
    if (key.length > MAX_API_KEY_LENGTH) {
      return { ok: false, error: 'invalid_request', reason: `API key longer than ${MAX_API_KEY_LENGTH} characters` };
    }
    if (!PRINTABLE.test(key)) return { ok: false, error: 'invalid_request', reason: 'API key has non-printable characters' };

    const digest = createHash('sha256').update(key, 'utf8').digest();
    const entry = this.#byDigest.get(digest.toString('hex'));
    // The Map hit already implies equality; the constant-time check confirms it on the bytes.
    if (entry === undefined || !timingSafeEqual(digest, entry.digest)) {
      return { ok: false, error: 'invalid_token', reason: 'unknown API key' };
    }
    return { ok: true, principal: entry.principal };
  }
}
