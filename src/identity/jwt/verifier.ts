/**
 * JWT authentication: cheap structural checks inline, a verified-token cache
 * on the hot path, HMAC inline, asymmetric signatures in a piscina pool.
 *
 * Order of work for one token (each step refuses before any later, costlier one):
 *   1. length <= 8192, then the verified-token cache (SHA-256 of the token):
 *      a hit returns synchronously;
 *   2. three base64url parts, header and payload decode to JSON objects;
 *   3. header: `alg` allowed for the issuer with exact case (`none` in any
 *      casing never), no `crit`, no `jwk`/`jku`/`x5u`/`x5c` (keys are never
 *      taken from, nor fetched for, a token), `kid` a short printable string;
 *   4. the issuer is chosen by the unverified `iss` among the route's issuers;
 *   5. jose verifies signature and claims (iss, aud, exp required, nbf, iat,
 *      skew, max age, required claims) with a key typed for the algorithm.
 *
 * Why a pool, and why batched: figures from `node scripts/bench-jwt.mjs`
 * (distinct tokens, cache off, 256 in flight, 2 workers), three runs on a
 * noisy 2-core VM (load average 3-7 from other jobs), Node 20.20:
 *
 *                              ES256                    RS256
 *   node:crypto, 1 thread,     11.6k-15.8k/s            42k-44k/s
 *     sync (reference)
 *   inline (jose on the        12.1k-17.2k/s, main      15.3k-18.7k/s, main
 *     main thread)             thread 99-100% busy      thread 100% busy
 *   pool, 1 token per task     3.7k-5.2k/s, main 52-55% 5.1k-7.0k/s, main 60-62%
 *   pool, batched (<= 32)      12.9k-14.6k/s, main 34-36%  19.9k-23.0k/s, main 36-39%
 *
 *   cached repeat (sync hit)   ~550k/s                  ~670k/s  (one run)
 *
 * ("main" = the main thread's event-loop utilisation, bench driver included.)
 * jose verifies through WebCrypto, whose signature work already runs on
 * libuv's thread pool; what burns the main thread is jose's JavaScript around
 * it (decoding, JSON, claims, promise plumbing). Inline verification saturates
 * the event loop that must also serve HTTP. One piscina task per token is the
 * worst choice: a round trip costs about as much as an ES256 verification
 * (issue 3: ~85 us, ~15k tasks/s at best), so it is 3-4x slower than batching
 * and still keeps the main thread half busy. Batching the tokens collected in
 * one event-loop turn (setImmediate; at most 32 per task, spread over the
 * workers) matches or beats inline throughput with a third of the main-thread
 * cost; a lone token waits at most one turn. HMAC stays inline (hundreds of
 * thousands per second: moving it would cost more than doing it).
 *
 * RFC 6750 codes: invalid_request for what is not a JWT at all (size, parts,
 * base64url, JSON); invalid_token for everything else; `unavailable` only when
 * no key was ever loaded for the chosen issuer (the route decides).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unwatchPool, watchPool, WorkerPool } from '../../workers/pool.js';
import type { JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { resolveSecret } from '../../core/secrets.js';
import type { Logger } from '../../observe/log.js';
import type { AuthFailure, AuthResult, IssuerConfig, Principal } from '../types.js';
import { algFamily } from './algorithms.js';
import { IssuerKeys, KID_PATTERN, type IssuerKeysOptions, type StoredKey } from './key-store.js';
import {
  KeyImporter,
  verifyItem,
  verifyWithKey,
  type ClaimRules,
  type VerifyItem,
  type VerifyOutcome,
  type VerifyWorkerData,
} from './verify-core.js';

/** Longest token accepted (characters of the compact form). */
export const MAX_TOKEN_LENGTH = 8192;
/** Default verifications per pool task. */
export const DEFAULT_BATCH_SIZE = 32;

const B64URL = /^[A-Za-z0-9_-]*$/;
/** Header parameters that name or carry keys: never trusted, so refused outright. */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

export interface JwtVerifierOptions {
  /** Worker threads for asymmetric verification; 0 verifies on the main thread. */
  workers: number;
  /** Verified-token cache size; 0 disables it. Default 100_000. */
  cacheEntries?: number;
  log: Logger;
  /** Verifications per pool task; 1 sends each on its own. Default 32. */
  batchSize?: number;
  /** Key store tuning (timeouts, sizes, backoff). */
  keyStore?: IssuerKeysOptions;
}

interface IssuerState {
  config: IssuerConfig;
  keys: IssuerKeys;
  /** Allowed algorithms after dropping `none` and HS* without a secret. */
  algorithms: ReadonlySet<string>;
  hmac?: Uint8Array;
  rules: ClaimRules;
}

interface CacheEntry {
  result: AuthResult & { ok: true };
  source: string;
  /** Epoch ms: exp, or iat + maxTokenAge when sooner. */
  validUntil: number;
}

interface Pending {
  item: VerifyItem;
  resolve: (outcome: VerifyOutcome) => void;
}

const fail = (error: AuthFailure['error'], reason: string): AuthFailure => ({ ok: false, error, reason }) as AuthFailure;

export class JwtVerifier {
  readonly #issuers = new Map<string, IssuerState>();
  readonly #log: Logger;
  readonly #workers: number;
  readonly #batchSize: number;
  readonly #cache: LRUCache<string, CacheEntry> | undefined;
  readonly #rules = new Map<string, ClaimRules>();
  /** Main-thread key imports (no pool, or before start). */
  readonly #importer = new KeyImporter();
  #pool: WorkerPool<VerifyItem[], VerifyOutcome[]> | undefined;
  #pending: Pending[] = [];
  #flushScheduled = false;
  #closed = false;

  constructor(issuers: IssuerConfig[], options: JwtVerifierOptions) {
    this.#log = options.log;
    this.#workers = Math.max(0, Math.floor(options.workers));
    this.#batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
    const entries = options.cacheEntries ?? 100_000;
    this.#cache = entries > 0 ? new LRUCache<string, CacheEntry>({ max: entries }) : undefined;

    for (const config of issuers) {
      const algorithms = new Set<string>();
      let hmac: Uint8Array | undefined;
      if (config.hmacSecret) {
        try {
          hmac = new TextEncoder().encode(resolveSecret(config.hmacSecret));
          if (hmac.byteLength < 32) this.#log.warn({ issuer: config.name }, 'jwt issuer: HMAC secret shorter than 32 bytes');
        } catch (err) {
          this.#log.error({ issuer: config.name, err: (err as Error).message }, 'jwt issuer: HMAC secret unavailable, HS algorithms disabled');
        }
      }
      for (const alg of config.algorithms) {
        const family = algFamily(alg);
        if (family === undefined) this.#log.error({ issuer: config.name, alg }, 'jwt issuer: algorithm not supported, ignored');
        else if (family === 'hmac' && !hmac) this.#log.error({ issuer: config.name, alg }, 'jwt issuer: HS algorithm without a secret, ignored');
        else algorithms.add(alg);
      }
      const rules: ClaimRules = {
        issuer: config.issuer,
        audiences: [...config.audiences],
        clockSkewSec: config.clockSkewSec,
        maxTokenAgeSec: config.maxTokenAgeSec,
        requiredClaims: [...config.requiredClaims],
      };
      this.#rules.set(config.name, rules);
      const state: IssuerState = { config, keys: new IssuerKeys(config, options.log, options.keyStore), algorithms, rules };
      if (hmac) state.hmac = hmac;
      this.#issuers.set(config.name, state);
    }
  }

  /** Loads every issuer's keys (never throws) and starts the worker pool. */
  async start(): Promise<void> {
    this.#closed = false;
    const needsPool = [...this.#issuers.values()].some((s) => [...s.algorithms].some((a) => algFamily(a) !== 'hmac'));
    if (this.#workers > 0 && needsPool && !this.#pool) {
      const url = new URL('./verify-worker.js', import.meta.url);
      if (existsSync(fileURLToPath(url))) {
        const workerData: VerifyWorkerData = { rules: Object.fromEntries(this.#rules) };
        this.#pool = new WorkerPool({ filename: url.href, minThreads: this.#workers, maxThreads: this.#workers, workerData });
        // Piscina imports the task module on a worker's first task: pay that
        // (hundreds of ms: jose + the module graph) now, not on a request.
        const pool = this.#pool;
        watchPool('jwt-verify', pool);
        await Promise.all(Array.from({ length: this.#workers }, () => pool.run([]))).catch((err: Error) =>
          this.#log.error({ err: err.message }, 'jwt: verify worker failed to start'),
        );
      } else {
        this.#log.warn({ worker: url.href }, 'jwt: verify worker not built, verifying on the main thread');
      }
    }
    await Promise.all([...this.#issuers.values()].map((s) => s.keys.start()));
  }

  /** Stops key refreshes and the pool; verifications still queued fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const state of this.#issuers.values()) state.keys.stop();
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) p.resolve({ ok: false, reason: 'verifier closed' });
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) {
      unwatchPool('jwt-verify', pool);
      await pool.destroy();
    }
  }

  /** The key store of an issuer config, by name. */
  issuer(name: string): IssuerKeys | undefined {
    return this.#issuers.get(name)?.keys;
  }

  /** Entries in the verified-token cache. */
  get cacheSize(): number {
    return this.#cache?.size ?? 0;
  }

  /**
   * Authenticates a bearer token for a route that accepts `allowedIssuers`
   * (issuer config names). A token found in the verified-token cache is
   * answered synchronously; everything else may need a Promise.
   */
  verify(token: string, allowedIssuers: readonly string[]): AuthResult | Promise<AuthResult> {
    if (typeof token !== 'string' || token.length === 0) return fail('invalid_request', 'empty token');
    if (token.length > MAX_TOKEN_LENGTH) return fail('invalid_request', `token longer than ${MAX_TOKEN_LENGTH} characters`);

    let hash: string | undefined;
    if (this.#cache) {
      hash = createHash('sha256').update(token).digest('base64');
      const hit = this.#cache.get(hash);
      if (hit !== undefined) {
        if (Date.now() >= hit.validUntil) this.#cache.delete(hash);
        else if (allowedIssuers.includes(hit.source)) return hit.result;
        // Cached for another issuer config: verify afresh for this route.
      }
    }

    // --- structure -------------------------------------------------------
    const first = token.indexOf('.');
    const second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (second < 0 || token.indexOf('.', second + 1) !== -1) return fail('invalid_request', 'not three dot-separated parts');
    const h = token.slice(0, first);
    const p = token.slice(first + 1, second);
    const s = token.slice(second + 1);
    for (const part of [h, p, s]) {
      if (!B64URL.test(part) || part.length % 4 === 1) return fail('invalid_request', 'part is not base64url');
    }
    const header = decodeObject(h);
    if (header === undefined) return fail('invalid_request', 'header is not a JSON object');
    const payload = decodeObject(p);
    if (payload === undefined) return fail('invalid_request', 'payload is not a JSON object');

    // --- header ----------------------------------------------------------
    const alg = header.alg;
    if (typeof alg !== 'string') return fail('invalid_token', 'alg missing');
    if (alg.toLowerCase() === 'none') return fail('invalid_token', 'alg none refused');
    if ('crit' in header) return fail('invalid_token', 'crit header refused (no extensions are understood)');
    for (const name of KEY_HEADERS) {
      if (name in header) return fail('invalid_token', `${name} header refused (keys are never taken from a token)`);
    }
    let kid: string | undefined;
    if ('kid' in header) {
      if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) return fail('invalid_token', 'kid is not a short printable string');
      kid = header.kid;
    }

    // --- issuer ----------------------------------------------------------
    const iss = payload.iss;
    if (typeof iss !== 'string') return fail('invalid_token', 'iss missing');
    let state: IssuerState | undefined;
    for (const name of allowedIssuers) {
      const candidate = this.#issuers.get(name);
      if (candidate !== undefined && candidate.config.issuer === iss) {
        state = candidate;
        break;
      }
    }
    if (state === undefined) return fail('invalid_token', `iss ${JSON.stringify(iss.slice(0, 200))} not accepted here`);
    if (!state.algorithms.has(alg)) return fail('invalid_token', `alg ${JSON.stringify(alg.slice(0, 20))} not allowed for issuer ${state.config.name}`);

    const st = state;
    if (algFamily(alg) === 'hmac') {
      return verifyWithKey(token, st.hmac!, alg, st.rules).then((o) => this.#finish(o, st, hash));
    }
    const keys = st.keys.resolve(alg, kid);
    if (Array.isArray(keys)) return this.#verifyAsymmetric(token, alg, kid, keys, st, hash);
    return keys.then((k) => this.#verifyAsymmetric(token, alg, kid, k, st, hash));
  }

  // -------------------------------------------------------------------------

  #verifyAsymmetric(
    token: string,
    alg: string,
    kid: string | undefined,
    keys: StoredKey[],
    st: IssuerState,
    hash: string | undefined,
  ): AuthResult | Promise<AuthResult> {
    if (keys.length === 0) {
      if (!st.keys.everLoaded) return fail('unavailable', `no key was ever loaded for issuer ${st.config.name}`);
      return fail('invalid_token', kid === undefined ? `no ${alg} key` : `unknown kid ${JSON.stringify(kid)}`);
    }
    const item: VerifyItem = { t: token, i: st.config.name, a: alg, k: keys.map((k) => ({ id: k.id, jwk: k.jwk })) };
    return this.#dispatch(item).then((o) => this.#finish(o, st, hash));
  }

  #dispatch(item: VerifyItem): Promise<VerifyOutcome> {
    if (this.#closed) return Promise.resolve({ ok: false, reason: 'verifier closed' });
    const pool = this.#pool;
    if (!pool) return verifyItem(item, this.#rules, this.#importer);
    if (this.#batchSize === 1) {
      return pool.run([item]).then(
        (out) => out[0] ?? { ok: false, reason: 'worker returned nothing' },
        (err: Error) => ({ ok: false, reason: `worker failed: ${err.message}` }),
      );
    }
    return new Promise((resolve) => {
      this.#pending.push({ item, resolve });
      if (this.#pending.length >= this.#batchSize) {
        this.#send(this.#pending.splice(0, this.#batchSize));
      } else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** End of the event-loop turn: send what was collected, spread over the workers. */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    const tasks = Math.max(Math.ceil(pending.length / this.#batchSize), Math.min(this.#workers, pending.length));
    const size = Math.ceil(pending.length / tasks);
    for (let i = 0; i < pending.length; i += size) this.#send(pending.slice(i, i + size));
  };

  #send(batch: Pending[]): void {
    const pool = this.#pool;
    if (!pool) {
      for (const p of batch) p.resolve({ ok: false, reason: 'verifier closed' });
      return;
    }
    pool.run(batch.map((p) => p.item)).then(
      (outcomes) => batch.forEach((p, i) => p.resolve(outcomes[i] ?? { ok: false, reason: 'worker returned nothing' })),
      (err: Error) => batch.forEach((p) => p.resolve({ ok: false, reason: `worker failed: ${err.message}` })),
    );
  }

  #finish(outcome: VerifyOutcome, st: IssuerState, hash: string | undefined): AuthResult {
    if (!outcome.ok) return fail('invalid_token', outcome.reason);
    const payload = outcome.payload;
    const principal = buildPrincipal(payload, st.config);
    if (typeof principal === 'string') return fail('invalid_token', principal);
    const result = { ok: true as const, principal };
    if (this.#cache && hash !== undefined) {
      let validUntil = payload.exp! * 1000;
      if (st.config.maxTokenAgeSec > 0 && typeof payload.iat === 'number') {
        validUntil = Math.min(validUntil, (payload.iat + st.config.maxTokenAgeSec) * 1000);
      }
      const ttl = validUntil - Date.now();
      if (ttl > 0) this.#cache.set(hash, { result, source: st.config.name, validUntil }, { ttl: Math.ceil(ttl) });
    }
    return result;
  }
}

function decodeObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`). */
function claimAt(payload: JWTPayload, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  let value: unknown = payload;
  for (const key of name.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function stringsOf(value: unknown, split: boolean): string[] {
  if (typeof value === 'string') return split ? value.split(/\s+/).filter(Boolean) : value ? [value] : [];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

function buildPrincipal(payload: JWTPayload, config: IssuerConfig): Principal | string {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) return 'sub missing';
  const roles = new Set<string>();
  for (const claim of config.roleClaims) for (const role of stringsOf(claimAt(payload, claim), false)) roles.add(role);
  const principal: Principal = {
    method: 'jwt',
    subject: payload.sub,
    source: config.name,
    environment: config.environment,
    scopes: new Set(stringsOf(claimAt(payload, config.scopeClaim), true)),
    roles,
    claims: Object.freeze(payload),
    expiresAt: payload.exp!,
  };
  return principal;
}
