import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { resolveSecret } from '../core/secrets.js';
import type { Logger } from '../observe/log.js';
import type { AuthResult, IntrospectionConfig, Principal } from './types.js';

/** Tokens longer than this are refused without asking the endpoint (same bound as JWTs). */
export const MAX_TOKEN_LENGTH = 8192;
/** Largest introspection response read; a longer one is treated as the endpoint failing. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
const DEFAULT_CACHE_ENTRIES = 10_000;

/** Visible ASCII: every RFC 6750 b64token, and any sane opaque token. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

export interface IntrospectorOptions {
  log: Logger;
  /** Bound on cached answers (active and inactive); default 10 000. */
  cacheEntries?: number;
}

interface CacheEntry {
  /** Only `ok: true` or `invalid_token` answers are cached; `unavailable` never is. */
  readonly result: AuthResult;
  /** Wall-clock ms after which the entry must not be used (checked on top of the LRU's own TTL). */
  readonly until: number;
}

type Fetched = { kind: 'json'; body: Record<string, unknown> } | { kind: 'failed'; reason: string };

/** `application/x-www-form-urlencoded` encoding of one value (RFC 6749 section 2.3.1 asks for it in Basic credentials too). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Space-separated string or array of strings → the strings. */
function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s.length > 0);
  return [];
}

/**
 * RFC 7662 token introspection for opaque access tokens.
 *
 * - One POST per distinct token at a time: concurrent introspections of the same
 *   token share the request in flight.
 * - Answers (active and inactive) are cached in a bounded LRU keyed by the
 *   SHA-256 of the token (the token itself is never stored or logged), for at
 *   most `cacheMaxSec` and never past the token's `exp`. `cacheMaxSec: 0`
 *   disables the cache.
 * - Anything other than a well-formed `200` JSON answer (endpoint down, timeout,
 *   4xx such as a rejected client secret, 5xx, redirect, oversize or non-JSON
 *   body, missing boolean `active`) is `unavailable`: never treated as active,
 *   never cached, and logged at error level.
 * - An active answer with no `sub`, `username` or `client_id`, or one whose
 *   `token_type` names a refresh token, is `invalid_token`.
 */
export class Introspector {
  readonly #config: IntrospectionConfig;
  readonly #log: Logger;
  readonly #authorization: string;
  readonly #cache: LRUCache<string, CacheEntry> | null;
  readonly #inflight = new Map<string, Promise<AuthResult>>();

  /** Throws when the client secret cannot be resolved. */
  constructor(config: IntrospectionConfig, options: IntrospectorOptions) {
    this.#config = config;
    this.#log = options.log;
    const secret = resolveSecret(config.clientSecret);
    this.#authorization = 'Basic ' + Buffer.from(`${formEncode(config.clientId)}:${formEncode(secret)}`, 'utf8').toString('base64');
    const maxTtl = Math.floor(config.cacheMaxSec * 1000);
    this.#cache =
      maxTtl > 0
        ? new LRUCache<string, CacheEntry>({ max: Math.max(1, options.cacheEntries ?? DEFAULT_CACHE_ENTRIES), ttl: maxTtl })
        : null;
  }

  /** Number of cached answers (for tests and metrics). */
  get cacheSize(): number {
    return this.#cache?.size ?? 0;
  }

  introspect(token: string): Promise<AuthResult> {
    if (typeof token !== 'string' || token.length === 0) {
      return Promise.resolve({ ok: false, error: 'invalid_request', reason: 'empty token' });
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      return Promise.resolve({ ok: false, error: 'invalid_request', reason: `token longer than ${MAX_TOKEN_LENGTH} characters` });
    }
    if (!TOKEN_CHARS.test(token)) {
      return Promise.resolve({ ok: false, error: 'invalid_request', reason: 'token has characters outside visible ASCII' });
    }

    const key = createHash('sha256').update(token, 'utf8').digest('base64url');
    const cached = this.#cache?.get(key);
    if (cached !== undefined) {
      if (Date.now() < cached.until) return Promise.resolve(cached.result);
      this.#cache!.delete(key);
    }
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending;

    const request = this.#introspectRemote(token, key).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, request);
    return request;
  }

  async #introspectRemote(token: string, key: string): Promise<AuthResult> {
    const fetched = await this.#post(token);
    if (fetched.kind === 'failed') {
      this.#log.error(
        { introspection: this.#config.name, endpoint: this.#config.endpoint, reason: fetched.reason },
        'token introspection failed',
      );
      return { ok: false, error: 'unavailable', reason: `introspection endpoint "${this.#config.name}": ${fetched.reason}` };
    }
    const body = fetched.body;
    const now = Date.now();
    const maxUntil = now + this.#config.cacheMaxSec * 1000;

    if (body.active !== true) {
      const result: AuthResult = { ok: false, error: 'invalid_token', reason: 'introspection: token is not active' };
      this.#store(key, result, maxUntil);
      return result;
    }

    const exp = typeof body.exp === 'number' && Number.isFinite(body.exp) ? body.exp : undefined;
    const until = exp === undefined ? maxUntil : Math.min(maxUntil, exp * 1000);
    const subject = [body.sub, body.username, body.client_id].find((v): v is string => typeof v === 'string' && v.length > 0);
    let result: AuthResult;
    if (subject === undefined) {
      result = { ok: false, error: 'invalid_token', reason: 'introspection: active token has no sub, username or client_id' };
    } else if (typeof body.token_type === 'string' && /refresh/i.test(body.token_type)) {
      result = { ok: false, error: 'invalid_token', reason: `introspection: token_type "${body.token_type}" is not an access token` };
    } else {
      const principal: Principal = Object.freeze({
        method: 'introspection',
        subject,
        source: this.#config.name,
        environment: this.#config.environment,
        scopes: Object.freeze(new Set(stringList(body.scope))),
        roles: Object.freeze(new Set([...stringList(body.roles), ...stringList(body.groups)])),
        claims: Object.freeze(body),
        ...(exp !== undefined ? { expiresAt: exp } : {}),
      });
      result = { ok: true, principal };
    }
    // An active answer for a token already past its exp (clock skew with the server) is used once, not cached.
    this.#store(key, result, until);
    return result;
  }

  #store(key: string, result: AuthResult, until: number): void {
    if (this.#cache === null) return;
    const ttl = Math.floor(until - Date.now());
    // ttl 0 would mean "no expiry" to lru-cache.
    if (ttl < 1) return;
    this.#cache.set(key, { result, until }, { ttl });
  }

  async #post(token: string): Promise<Fetched> {
    let response: Response;
    const signal = AbortSignal.timeout(this.#config.timeoutMs);
    try {
      response = await fetch(this.#config.endpoint, {
        method: 'POST',
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        // Credentials go to the configured endpoint only.
        redirect: 'error',
        signal,
      });
    } catch (err) {
      return { kind: 'failed', reason: signal.aborted ? `timed out after ${this.#config.timeoutMs} ms` : describeError(err) };
    }

    try {
      if (response.status !== 200) {
        const hint = response.status === 401 || response.status === 403 ? ' (client credentials rejected?)' : '';
        return { kind: 'failed', reason: `HTTP ${response.status}${hint}` };
      }
      const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json' && !/^application\/[^/]+\+json$/.test(type)) {
        return { kind: 'failed', reason: `content-type "${type}" is not JSON` };
      }
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > MAX_RESPONSE_BYTES) return { kind: 'failed', reason: `response of ${declared} bytes exceeds ${MAX_RESPONSE_BYTES}` };

      const text = await readCapped(response, MAX_RESPONSE_BYTES);
      if (text === null) return { kind: 'failed', reason: `response exceeds ${MAX_RESPONSE_BYTES} bytes` };
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { kind: 'failed', reason: 'response is not valid JSON' };
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return { kind: 'failed', reason: 'response is not a JSON object' };
      if (typeof (body as Record<string, unknown>).active !== 'boolean') return { kind: 'failed', reason: 'response has no boolean "active"' };
      return { kind: 'json', body: body as Record<string, unknown> };
    } catch (err) {
      return { kind: 'failed', reason: signal.aborted ? `timed out after ${this.#config.timeoutMs} ms` : describeError(err) };
    } finally {
      // Release the connection whatever was (not) read.
      if (!response.bodyUsed) await response.body?.cancel().catch(() => {});
    }
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? ` (${String((cause as { code: unknown }).code)})` : '';
  return `${err.message}${code}`;
}

/** The body as UTF-8 text, or null once it grows past `limit` bytes (the rest is not read). */
async function readCapped(response: Response, limit: number): Promise<string | null> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
