/**
 * The public keys of one JWT issuer: inline JWKs, PEM files, a JWKS URL or
 * OpenID Connect discovery.
 *
 * What the store guarantees (the failure modes issue 3 lists for other gateways):
 * - keys are loaded at start-up and refreshed in the background; a failed
 *   refresh keeps serving the cached set (an issuer outage is not a 401 storm);
 * - an unknown `kid` triggers at most one refetch per verification, concurrent
 *   misses share one fetch, failures back off exponentially and every fetch
 *   counts against `maxFetchesPerMinute` (an attacker sending random kids cannot
 *   turn the gateway into a fetch flood; beyond the cap unknown kids fail fast);
 * - nothing a token names is ever fetched: the only URLs are the configured
 *   JWKS URL and the configured issuer's discovery document;
 * - only public signing keys are kept (`use` other than `sig`, `key_ops`
 *   without `verify`, private or symmetric members: ignored), bounded in number.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../observe/log.js';
import type { IssuerConfig } from '../types.js';
import { algFamily, keyFitsAlg, type PublicJwk } from './algorithms.js';
import { MAX_CANDIDATE_KEYS } from './verify-core.js';

/** A verified-usable public key. */
export interface StoredKey {
  /** `${issuer name}\0${kid}\0${thumbprint}`: identifies the key material for import caches. */
  readonly id: string;
  readonly kid?: string;
  readonly jwk: PublicJwk;
  /** RFC 7638 SHA-256 thumbprint. */
  readonly thumbprint: string;
}

export interface IssuerKeysOptions {
  /** Per HTTP request (connect to end of body). Default 5000. */
  fetchTimeoutMs?: number;
  /** Largest JWKS or discovery document accepted. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Keys kept per issuer. Default 256. */
  maxKeys?: number;
  /** First backoff after a failed fetch; doubles per failure. Default 1000. */
  backoffBaseMs?: number;
  /** Backoff ceiling. Default 60000. */
  backoffMaxMs?: number;
}

/** `kid` values accepted from tokens and key sets: printable ASCII, bounded. */
export const KID_PATTERN = /^[\x20-\x7e]{1,256}$/;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['n', 'e'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
};
const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;
const WINDOW_MS = 60_000;

export type FetchReason = 'start' | 'background' | 'miss';

class FetchCapError extends Error {}

export class IssuerKeys {
  readonly name: string;
  readonly #config: IssuerConfig;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #maxKeys: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;

  /** Keys with a kid, by kid. */
  #byKid: LRUCache<string, StoredKey>;
  /** Keys without a kid (usable by alg/kty match). */
  #noKid: StoredKey[] = [];
  /** Inline / PEM keys: loaded once, never replaced by a fetch. */
  #static: StoredKey[] = [];

  #everLoaded = false;
  #lastLoadedAt: number | undefined;
  #jwksUri: string | undefined;
  #inflight: Promise<boolean> | undefined;
  #fetchTimes: number[] = [];
  #fetches = 0;
  #failures = 0;
  #nextAttemptAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #abort = new AbortController();

  constructor(config: IssuerConfig, log: Logger, options: IssuerKeysOptions = {}) {
    this.name = config.name;
    this.#config = config;
    this.#log = log;
    this.#timeoutMs = options.fetchTimeoutMs ?? 5000;
    this.#maxBytes = options.maxResponseBytes ?? 1024 * 1024;
    this.#maxKeys = options.maxKeys ?? 256;
    this.#backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.#backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.#byKid = new LRUCache({ max: this.#maxKeys });
    this.#jwksUri = config.jwksUri;
  }

  /** Whether a key set comes from the network (JWKS URL or discovery). */
  get remote(): boolean {
    return this.#config.jwksUri !== undefined || this.#config.discovery === true;
  }

  /** Whether any key was ever loaded (a failed refresh later does not reset it). */
  get everLoaded(): boolean {
    return this.#everLoaded;
  }

  /** Epoch ms of the last successful load. */
  get lastLoadedAt(): number | undefined {
    return this.#lastLoadedAt;
  }

  /** HTTP requests made so far (discovery and JWKS). */
  get fetches(): number {
    return this.#fetches;
  }

  /** Keys currently held. */
  get size(): number {
    return this.#byKid.size + this.#noKid.length;
  }

  /** The JWKS URL in use (configured or discovered). */
  get jwksUri(): string | undefined {
    return this.#jwksUri;
  }

  /** Loads static keys and the first remote key set; never throws. */
  async start(): Promise<void> {
    this.#stopped = false;
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    try {
      this.#static = await this.#loadStatic();
      if (this.#static.length > 0) {
        this.#replace([]);
        this.#everLoaded = true;
        this.#lastLoadedAt = Date.now();
        this.#log.info({ issuer: this.name, keys: this.#static.length }, 'jwt issuer: static keys loaded');
      }
    } catch (err) {
      this.#log.error({ issuer: this.name, err: (err as Error).message }, 'jwt issuer: static keys not loaded');
    }
    if (this.remote) {
      const ok = await this.refresh('start');
      this.#schedule(ok ? this.#config.refreshIntervalSec * 1000 : this.#retryDelay());
    } else if (!this.#everLoaded && !this.#config.hmacSecret) {
      this.#log.error({ issuer: this.name }, 'jwt issuer: no usable public key');
    }
  }

  /** Stops the background refresh and aborts a fetch in flight. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
  }

  /**
   * Cached keys that may verify `alg` for `kid`, synchronously. A token with a
   * kid gets that key only (or, when no key has that kid, the keys without a
   * kid); a token without a kid gets every key of the right type.
   */
  lookup(alg: string, kid: string | undefined): StoredKey[] {
    if (kid !== undefined) {
      const key = this.#byKid.get(kid);
      if (key !== undefined) return keyFitsAlg(key.jwk, alg) ? [key] : [];
      return this.#noKid.filter((k) => keyFitsAlg(k.jwk, alg)).slice(0, MAX_CANDIDATE_KEYS);
    }
    const out = this.#noKid.filter((k) => keyFitsAlg(k.jwk, alg));
    for (const key of this.#byKid.values()) {
      if (out.length >= MAX_CANDIDATE_KEYS) break;
      if (keyFitsAlg(key.jwk, alg)) out.push(key);
    }
    return out.slice(0, MAX_CANDIDATE_KEYS);
  }

  /**
   * `lookup`, and on a miss one refetch of the key set (shared with concurrent
   * misses) before looking again. Synchronous when nothing needs fetching, or
   * when backoff or the fetch cap forbids a fetch (fail fast).
   */
  resolve(alg: string, kid: string | undefined): StoredKey[] | Promise<StoredKey[]> {
    if (kid !== undefined && this.#byKid.has(kid)) return this.lookup(alg, kid);
    const found = this.lookup(alg, kid);
    // A kid we do not know is worth one refetch even when kid-less keys could
    // be tried; a token without a kid only when we have no key of its type.
    const miss = kid !== undefined || found.length === 0;
    if (!miss || !this.remote || (this.#inflight === undefined && !this.#mayFetch())) return found;
    return this.refresh('miss').then(() => this.lookup(alg, kid));
  }

  /**
   * Fetches the key set now (coalesced with a fetch in flight). Resolves true
   * when keys were loaded; never rejects. A miss-triggered fetch respects the
   * backoff; every fetch respects the per-minute cap.
   */
  refresh(reason: FetchReason = 'background'): Promise<boolean> {
    if (!this.remote || this.#stopped) return Promise.resolve(false);
    if (this.#inflight) return this.#inflight;
    if (reason === 'miss' && Date.now() < this.#nextAttemptAt) return Promise.resolve(false);
    if (!this.#slotFree()) {
      this.#log.warn({ issuer: this.name, reason, maxFetchesPerMinute: this.#config.maxFetchesPerMinute }, 'jwt issuer: fetch cap reached, not fetching');
      return Promise.resolve(false);
    }
    const run = this.#loadRemote(reason).finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = run;
    return run;
  }

  // -------------------------------------------------------------------------

  #mayFetch(): boolean {
    return !this.#stopped && Date.now() >= this.#nextAttemptAt && this.#slotFree();
  }

  #slotFree(): boolean {
    const now = Date.now();
    while (this.#fetchTimes.length > 0 && this.#fetchTimes[0]! <= now - WINDOW_MS) this.#fetchTimes.shift();
    return this.#fetchTimes.length < this.#config.maxFetchesPerMinute;
  }

  #retryDelay(): number {
    const interval = this.#config.refreshIntervalSec * 1000;
    return Math.max(100, Math.min(interval, this.#nextAttemptAt - Date.now()));
  }

  #schedule(delayMs: number): void {
    if (this.#stopped || !this.remote) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.refresh('background').then((ok) => {
        if (this.#stopped) return;
        if (ok) this.#schedule(this.#config.refreshIntervalSec * 1000);
        else if (!this.#slotFree()) this.#schedule(Math.max(1000, this.#fetchTimes[0]! + WINDOW_MS - Date.now()));
        else this.#schedule(this.#retryDelay());
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #loadRemote(reason: FetchReason): Promise<boolean> {
    try {
      if (this.#jwksUri === undefined) this.#jwksUri = await this.#discover();
      const doc = await this.#fetchJson(this.#jwksUri);
      const keys = await this.#parseJwks(doc);
      if (keys.length === 0) throw new Error('the key set holds no usable signing key');
      this.#replace(keys);
      this.#everLoaded = true;
      this.#lastLoadedAt = Date.now();
      this.#failures = 0;
      this.#nextAttemptAt = 0;
      this.#log.info({ issuer: this.name, reason, keys: keys.length, uri: this.#jwksUri }, 'jwt issuer: keys loaded');
      return true;
    } catch (err) {
      if (this.#stopped) return false;
      if (err instanceof FetchCapError) {
        this.#log.warn({ issuer: this.name, reason }, 'jwt issuer: fetch cap reached during load');
        return false;
      }
      this.#failures++;
      const backoff = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** Math.min(this.#failures - 1, 30));
      this.#nextAttemptAt = Date.now() + backoff;
      // A discovered URL may have moved: discover again next time.
      if (this.#config.discovery && this.#config.jwksUri === undefined) this.#jwksUri = undefined;
      this.#log.warn(
        { issuer: this.name, reason, err: describeError(err), failures: this.#failures, backoffMs: backoff, cachedKeys: this.size },
        'jwt issuer: key fetch failed, keeping cached keys',
      );
      return false;
    }
  }

  async #discover(): Promise<string> {
    const url = `${this.#config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = await this.#fetchJson(url);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('discovery document is not an object');
    const { issuer, jwks_uri: jwksUri } = doc as Record<string, unknown>;
    if (issuer !== this.#config.issuer) throw new Error(`discovery document names issuer ${JSON.stringify(issuer)}, expected ${this.#config.issuer}`);
    if (typeof jwksUri !== 'string') throw new Error('discovery document has no jwks_uri');
    const parsed = new URL(jwksUri);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`jwks_uri scheme ${parsed.protocol} not allowed`);
    return parsed.href;
  }

  async #fetchJson(url: string): Promise<unknown> {
    if (!this.#slotFree()) throw new FetchCapError('fetch cap reached');
    this.#fetchTimes.push(Date.now());
    this.#fetches++;
    const res = await fetch(url, {
      signal: AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#abort.signal]),
      redirect: 'error',
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    const fail = async (why: string): Promise<never> => {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`${url}: ${why}`);
    };
    if (res.status !== 200) return fail(`HTTP ${res.status}`);
    const type = res.headers.get('content-type') ?? '';
    if (!JSON_TYPE.test(type)) return fail(`content-type ${JSON.stringify(type)} is not JSON`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > this.#maxBytes) return fail(`response of ${declared} bytes exceeds ${this.#maxBytes}`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > this.#maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new Error(`${url}: response exceeds ${this.#maxBytes} bytes`);
        }
        chunks.push(value);
      }
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new Error(`${url}: response is not valid JSON`);
    }
  }

  /** Public signing keys of a JWKS document, bounded; anything else is skipped. */
  async #parseJwks(doc: unknown): Promise<StoredKey[]> {
    const list = (doc as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new Error('not a JWK set (no "keys" array)');
    const keys: StoredKey[] = [];
    const skipped: string[] = [];
    for (const raw of list) {
      if (keys.length >= this.#maxKeys) {
        skipped.push(`more than ${this.#maxKeys} keys`);
        break;
      }
      const checked = checkJwk(raw);
      if (typeof checked === 'string') skipped.push(checked);
      else keys.push(await this.#stored(checked));
    }
    if (skipped.length > 0) this.#log.debug({ issuer: this.name, skipped }, 'jwt issuer: JWKS entries ignored');
    return keys;
  }

  async #loadStatic(): Promise<StoredKey[]> {
    const keys: StoredKey[] = [];
    for (const [i, raw] of (this.#config.jwks ?? []).entries()) {
      const checked = checkJwk(raw);
      if (typeof checked === 'string') this.#log.error({ issuer: this.name, index: i, why: checked }, 'jwt issuer: inline JWK ignored');
      else keys.push(await this.#stored(checked));
    }
    for (const file of this.#config.pemFiles ?? []) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        this.#log.error({ issuer: this.name, file, err: (err as Error).message }, 'jwt issuer: PEM file unreadable');
        continue;
      }
      const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
      if (blocks.length === 0) this.#log.error({ issuer: this.name, file }, 'jwt issuer: no PEM block in file');
      for (const [block, label] of blocks.map((m) => [m[0], m[1]!] as const)) {
        try {
          if (label.includes('PRIVATE')) throw new Error('private keys are refused: configure the public key or certificate');
          const object: KeyObject =
            label === 'CERTIFICATE' || label === 'X509 CERTIFICATE' ? new X509Certificate(block).publicKey : createPublicKey(block);
          const checked = checkJwk(object.export({ format: 'jwk' }));
          if (typeof checked === 'string') throw new Error(checked);
          keys.push(await this.#stored(checked));
        } catch (err) {
          this.#log.error({ issuer: this.name, file, label, err: (err as Error).message }, 'jwt issuer: PEM block ignored');
        }
      }
    }
    return keys;
  }

  async #stored(jwk: PublicJwk): Promise<StoredKey> {
    const thumbprint = await calculateJwkThumbprint(jwk as unknown as Parameters<typeof calculateJwkThumbprint>[0]);
    const key: StoredKey = { id: `${this.name}\0${jwk.kid ?? ''}\0${thumbprint}`, jwk, thumbprint };
    return jwk.kid === undefined ? key : { ...key, kid: jwk.kid };
  }

  /** Swaps in a remote key set; static keys stay. */
  #replace(remote: StoredKey[]): void {
    const byKid = new LRUCache<string, StoredKey>({ max: this.#maxKeys });
    const noKid: StoredKey[] = [];
    for (const key of [...this.#static, ...remote]) {
      if (key.kid === undefined) {
        if (noKid.length < this.#maxKeys) noKid.push(key);
      } else if (!byKid.has(key.kid)) {
        byKid.set(key.kid, key);
      }
    }
    this.#byKid = byKid;
    this.#noKid = noKid;
  }
}

/** An error's message with its cause (fetch hides the network error there). */
function describeError(err: unknown): string {
  const e = err as Error & { cause?: { message?: string; code?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : String(e.message ?? err);
}

/** A public signing JWK reduced to its public members, or why it is unusable. */
function checkJwk(raw: unknown): PublicJwk | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
  const jwk = raw as Record<string, unknown>;
  const kty = jwk.kty;
  if (typeof kty !== 'string' || !Object.hasOwn(PUBLIC_MEMBERS, kty)) return `kty ${JSON.stringify(kty)} is not RSA, EC or OKP`;
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) return 'has private key members';
  if (jwk.use !== undefined && jwk.use !== 'sig') return `use ${JSON.stringify(jwk.use)} is not "sig"`;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return 'key_ops lacks "verify"';
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || !KID_PATTERN.test(jwk.kid))) return 'kid is not a short printable string';
  if (jwk.alg !== undefined) {
    const family = typeof jwk.alg === 'string' ? algFamily(jwk.alg) : undefined;
    if (family === undefined || family === 'hmac') return `alg ${JSON.stringify(jwk.alg)} is not a supported signature algorithm`;
  }
  const out: Record<string, string> = { kty };
  for (const member of PUBLIC_MEMBERS[kty]!) {
    const value = jwk[member];
    if (typeof value !== 'string' || value.length === 0) return `missing "${member}"`;
    out[member] = value;
  }
  if (typeof jwk.kid === 'string') out.kid = jwk.kid;
  if (typeof jwk.alg === 'string') out.alg = jwk.alg;
  try {
    // Parses the key material (no crypto of our own): malformed keys are refused at load.
    createPublicKey({ key: out as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (err) {
    return `unparsable key: ${(err as Error).message}`;
  }
  return out as unknown as PublicJwk;
}
