/**
 * JWT authentication: cheap structural checks inline, a verified-token cache
 * on the hot path, HMAC inline, asymmetric signatures in a piscina pool, or
 * inline when the pool is backed up.
 *
 * Order of work for one token (each step refuses before any later, costlier one):
 *   1. length <= 8192, then the verified-token cache (SHA-256 of the token):
 *      a hit returns synchronously;
 *   2. three base64url parts, header and payload decode to JSON objects;
 *   3. header: `alg` allowed for the issuer with exact case (`none` in any
 *      casing never), no `crit`, no `jwk`/`jku`/`x5u`/`x5c` (keys are never
 *      taken from, nor fetched for, a token), `kid` a short printable string;
 *   4. the issuer is chosen by the unverified `iss` among the route's issuers;
 *   5. HMAC: jose verifies signature and claims. Asymmetric: the claims
 *      (claims.ts: iss, aud, exp required, nbf, iat, skew, max age, required
 *      claims) on the decoded payload, then the signature with node:crypto on
 *      a key prepared for the algorithm (signature.ts), over the same bytes.
 *
 * Where a signature is checked. A pool task carries only signature checks (a
 * batch of tokens, each JWK once): the worker answers true or a reason per
 * token, nothing is parsed twice and no payload is cloned back. At most one
 * task per worker is out; tokens arriving meanwhile wait and go as the next
 * batch (up to `batchSize`) when the worker answers, so batches grow with the
 * load and a piscina round trip is paid per batch, not per token. Once
 * `maxQueued` tokens wait, the next one is verified on the main thread:
 * queueing is bounded (a token waits for at most about two batches), and a
 * saturated process spends its CPU verifying instead of queueing. HMAC stays
 * inline (hundreds of thousands per second). native-bench/NOTES.md
 * (2026-12-08, distinct-token JWT) has the measurements behind each choice.
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
import { claimsProblem } from './claims.js';
import { IssuerKeys, KID_PATTERN, type IssuerKeysOptions, type StoredKey } from './key-store.js';
import { checkSignature, SigningKeys, type KeyRef } from './signature.js';
import {
  MAX_CANDIDATE_KEYS,
  verifyWithKey,
  type ClaimRules,
  type SignatureBatch,
  type SignatureOutcome,
} from './verify-core.js';

/** Longest token accepted (characters of the compact form). */
export const MAX_TOKEN_LENGTH = 8192;
/** Default verifications per pool task. */
export const DEFAULT_BATCH_SIZE = 32;
/** Fewer tokens than this waiting for a free worker are verified inline. */
export const DEFAULT_MIN_BATCH = 8;

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
  /**
   * Tokens waiting for a busy pool beyond which the next one is verified on
   * the main thread; 0 verifies every asymmetric token there. Default
   * `batchSize` per worker.
   */
  maxQueued?: number;
  /** Fewer tokens than this at a flush are verified inline, not sent. Default 8; 1 sends every batch. */
  minBatch?: number;
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
  token: string;
  alg: string;
  keys: StoredKey[];
  resolve: (outcome: SignatureOutcome) => void;
}

const fail = (error: AuthFailure['error'], reason: string): AuthFailure => ({ ok: false, error, reason }) as AuthFailure;

export class JwtVerifier {
  readonly #issuers = new Map<string, IssuerState>();
  readonly #log: Logger;
  readonly #workers: number;
  readonly #batchSize: number;
  readonly #maxQueued: number;
  readonly #minBatch: number;
  readonly #cache: LRUCache<string, CacheEntry> | undefined;
  /** Keys prepared on the main thread (no pool, or the pool is busy). */
  readonly #keys = new SigningKeys();
  #pool: WorkerPool<SignatureBatch, SignatureOutcome[]> | undefined;
  #pending: Pending[] = [];
  /** Pool tasks sent and not yet answered: at most one per worker. */
  #outstanding = 0;
  #flushScheduled = false;
  #closed = false;

  constructor(issuers: IssuerConfig[], options: JwtVerifierOptions) {
    this.#log = options.log;
    this.#workers = Math.max(0, Math.floor(options.workers));
    this.#batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
    this.#maxQueued = Math.max(0, Math.floor(options.maxQueued ?? this.#batchSize * Math.max(1, this.#workers)));
    this.#minBatch = Math.max(1, Math.floor(options.minBatch ?? DEFAULT_MIN_BATCH));
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
        this.#pool = new WorkerPool({ filename: url.href, minThreads: this.#workers, maxThreads: this.#workers });
        // Piscina imports the task module on a worker's first task: pay that
        // (hundreds of ms: jose + the module graph) now, not on a request.
        const pool = this.#pool;
        watchPool('jwt-verify', pool);
        await Promise.all(Array.from({ length: this.#workers }, () => pool.run({ keys: [], items: [] }))).catch((err: Error) =>
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
    for (const p of pending) p.resolve('verifier closed');
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
      return verifyWithKey(token, st.hmac!, alg, st.rules).then((o) => (o.ok ? this.#accept(o.payload, st, hash) : fail('invalid_token', o.reason)));
    }
    // --- claims (before any signature work: an expired token costs no crypto)
    const problem = claimsProblem(payload, st.rules, Math.floor(Date.now() / 1000));
    if (problem !== undefined) return fail('invalid_token', problem);

    const keys = st.keys.resolve(alg, kid);
    if (Array.isArray(keys)) return this.#verifyAsymmetric(token, alg, kid, keys, st, hash, payload);
    // A key fetch may take seconds: the clock is read again once it is done.
    return keys.then((k) => {
      const late = claimsProblem(payload, st.rules, Math.floor(Date.now() / 1000));
      return late === undefined ? this.#verifyAsymmetric(token, alg, kid, k, st, hash, payload) : fail('invalid_token', late);
    });
  }

  // -------------------------------------------------------------------------

  #verifyAsymmetric(
    token: string,
    alg: string,
    kid: string | undefined,
    keys: StoredKey[],
    st: IssuerState,
    hash: string | undefined,
    payload: JWTPayload,
  ): AuthResult | Promise<AuthResult> {
    if (keys.length === 0) {
      if (!st.keys.everLoaded) return fail('unavailable', `no key was ever loaded for issuer ${st.config.name}`);
      return fail('invalid_token', kid === undefined ? `no ${alg} key` : `unknown kid ${JSON.stringify(kid)}`);
    }
    if (this.#closed) return fail('invalid_token', 'verifier closed');
    // Inline when there is no pool or the pool is backed up: the caller waits
    // no longer than a batch per worker, and a saturated process spends its
    // CPU on verifying rather than on queueing.
    if (this.#pool === undefined || this.#pending.length >= this.#maxQueued) {
      return this.#settle(checkSignature(token, alg, keys, this.#keys, MAX_CANDIDATE_KEYS), payload, st, hash);
    }
    return new Promise<SignatureOutcome>((resolve) => {
      this.#pending.push({ token, alg, keys, resolve });
      if (!this.#flushScheduled && this.#outstanding < this.#workers) {
        // Collect what else arrives in this event-loop turn.
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    }).then((outcome) => this.#settle(outcome, payload, st, hash));
  }

  /**
   * Sends what waits to the free workers, a batch each (a worker that answers
   * takes the next one). Fewer than `minBatch` waiting: verified here instead,
   * a round trip would cost more than it saves (the process is not busy).
   */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#pending.length < this.#minBatch) {
      const few = this.#pending;
      this.#pending = [];
      for (const p of few) p.resolve(checkSignature(p.token, p.alg, p.keys, this.#keys, MAX_CANDIDATE_KEYS));
      return;
    }
    while (this.#pending.length > 0 && this.#outstanding < this.#workers) {
      const free = this.#workers - this.#outstanding;
      const size = Math.min(this.#batchSize, Math.ceil(this.#pending.length / free));
      this.#send(this.#pending.splice(0, size));
    }
  };

  #send(batch: Pending[]): void {
    const pool = this.#pool;
    if (!pool) {
      for (const p of batch) p.resolve('verifier closed');
      return;
    }
    // Each key once per batch, the items naming them by index.
    const keys: KeyRef[] = [];
    const index = new Map<string, number>();
    const items: SignatureBatch['items'] = batch.map((p) => {
      const idx: number[] = [];
      for (const k of p.keys) {
        let i = index.get(k.id);
        if (i === undefined) {
          i = keys.push({ id: k.id, jwk: k.jwk }) - 1;
          index.set(k.id, i);
        }
        idx.push(i);
      }
      return [p.token, p.alg, idx];
    });
    this.#outstanding++;
    const done = (): void => {
      this.#outstanding--;
      if (this.#pending.length > 0 && !this.#closed) this.#flush();
    };
    pool.run({ keys, items }).then(
      (outcomes) => {
        done();
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outcomes[i] ?? 'worker returned nothing');
      },
      (err: Error) => {
        done();
        for (const p of batch) p.resolve(`worker failed: ${err.message}`);
      },
    );
  }

  #settle(outcome: SignatureOutcome, payload: JWTPayload, st: IssuerState, hash: string | undefined): AuthResult {
    return outcome === true ? this.#accept(payload, st, hash) : fail('invalid_token', outcome);
  }

  #accept(payload: JWTPayload, st: IssuerState, hash: string | undefined): AuthResult {
    const principal = buildPrincipal(payload, st.config);
    if (typeof principal === 'string') return fail('invalid_token', principal);
    const result = { ok: true as const, principal };
    if (this.#cache && hash !== undefined) {
      let validUntil = (payload.exp as number) * 1000;
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
