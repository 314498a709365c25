import { Redis, type RedisOptions } from 'iovalkey';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../core/metrics.js';
import { resolveSecret } from '../core/secrets.js';
import { serviceKey } from '../pipeline/services.js';
import { QUOTA_SCRIPT } from './quota-script.js';
import { StateMetrics } from './metrics.js';
import type { StateSection } from './schema.js';
import { StateErrors } from './errors.js';
import { FallbackLedger, type OwedDebit } from './fallback.js';
import { RedisSanctionRelay, type SanctionRelay } from './sanction-relay.js';

/** The oldest store the quota script is tested on. */
export const MIN_REDIS_MAJOR = 7;
/** Failed calls in a row after which the store is skipped for OPEN_MS (every request would otherwise wait timeoutMs). */
const FAILURES_TO_OPEN = 3;
const OPEN_MS = 1000;

/** The script's answer for one request: the most constraining bucket. */
export interface QuotaAnswer {
  allowed: boolean;
  /** Which of the keys sent. */
  keyIndex: number;
  /** Which limit of that key. */
  limitIndex: number;
  remaining: number;
  resetMs: number;
  /** Infinity when the cost exceeds the bucket. */
  retryAfterMs: number;
}

/** No answer in time, or no usable store: the caller applies its onStoreFailure. */
export interface QuotaFailure {
  allowed?: undefined;
  /** `unavailable`: not connected, wrong version, or skipped after repeated failures (answered at once). */
  failure: 'timeout' | 'error' | 'unavailable';
}

export type QuotaResult = QuotaAnswer | QuotaFailure;

/** Told when a call that timed out is answered after all (so a fallback charge can be taken back). */
export type LateAnswer = (answer: QuotaAnswer) => void;

interface Pending {
  keys: string[];
  args: string[];
  resolve: (r: QuotaResult) => void;
  late: LateAnswer | null;
  settled: boolean;
  /** Settled by the timer; its reply (or error) is still to come. */
  timedOut: boolean;
}

type QuotaClient = Redis & { ztgateQuota(...args: (string | number)[]): Promise<number[]> };

function parseAnswer(raw: unknown): QuotaAnswer | null {
  if (!Array.isArray(raw) || raw.length !== 6 || !raw.every((v) => typeof v === 'number')) return null;
  const [allowed, keyIndex, limitIndex, remaining, resetMs, retry] = raw as number[];
  return { allowed: allowed === 1, keyIndex, limitIndex, remaining, resetMs, retryAfterMs: retry < 0 ? Infinity : retry };
}

/** `redis_version` (or `valkey_version`) from INFO server. */
export function serverVersion(info: string): { name: string; version: string; major: number } | null {
  const valkey = /^valkey_version:([0-9][0-9.]*)\r?$/m.exec(info);
  const redis = /^redis_version:([0-9][0-9.]*)\r?$/m.exec(info);
  const m = valkey ?? redis;
  if (!m) return null;
  return { name: valkey ? 'valkey' : 'redis', version: m[1], major: Number(m[1].split('.')[0]) };
}

/**
 * The process's one connection to the state store. Every quota check of an
 * event-loop turn is sent in one write (the client pipelines what is issued in
 * one turn; checks are gathered until the turn ends), and waits at most
 * timeoutMs, timed by one timer per batch. While the store is unreachable
 * checks are answered `unavailable` at once, without waiting.
 */
/** The process's store as stages ask for it (src/pipeline/services.ts); absent without a state section. */
export const STATE_STORE = serviceKey<StateStore>('state-store');

export class StateStore {
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly fallback: FallbackLedger;
  readonly metrics: StateMetrics;
  private readonly client: QuotaClient;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private versionOk = false;
  private failures = 0;
  private openUntil = 0;
  /** The last word on the store, for the transition log lines. */
  private state: 'starting' | 'up' | 'down' = 'starting';
  /** Set when the store answers again: the fallback's hits go first in the next batch. */
  private owedDue = false;
  /** When the first check of the batch being gathered was asked: its deadline is the batch's. */
  private batchStartedAt = 0;
  /** Checks that timed out and whose reply has not come yet. */
  private lateOutstanding = 0;
  private closed = false;
  private lastError = '';
  private relay: RedisSanctionRelay | null = null;

  constructor(
    section: StateSection,
    private readonly log: Logger,
    metrics: Metrics,
    processes: number,
  ) {
    const r = section.redis;
    this.keyPrefix = r.keyPrefix ?? 'ztgate:';
    this.timeoutMs = r.timeoutMs ?? 50;
    this.metrics = new StateMetrics(metrics);
    this.fallback = new FallbackLedger(section.fallbackShare ?? 1 / Math.max(1, processes));
    const url = new URL(r.url);
    const tls = r.tls || url.protocol === 'rediss:' ? {
      ca: r.tls?.ca ? resolveSecret(r.tls.ca) : undefined,
      servername: r.tls?.servername ?? url.hostname,
      rejectUnauthorized: r.tls?.rejectUnauthorized ?? true,
    } : undefined;
    const options: RedisOptions = {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : 6379,
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) || 0 : 0,
      username: r.username,
      password: r.password ? resolveSecret(r.password) : undefined,
      tls,
      lazyConnect: true,
      // Fail at once while disconnected, never replay a check on a new connection
      // (its request has been decided by then): the caller falls back instead.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      enableAutoPipelining: true,
      connectTimeout: Math.max(1000, this.timeoutMs * 10),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
      connectionName: 'ztgate',
    };
    this.client = new Redis(options) as QuotaClient;
    this.client.defineCommand('ztgateQuota', { lua: QUOTA_SCRIPT });
    this.client.on('ready', () => void this.checkVersion());
    this.client.on('error', (err: Error) => this.noteError(err.message));
    this.client.on('close', () => {
      this.versionOk = false;
      this.markDown(this.lastError || 'connection closed');
    });
  }

  /** Connects in the background: the gateway serves (on the fallbacks) until the store answers. */
  start(): void {
    this.metrics.up.set([], 0);
    this.client.connect().catch((err: Error) => this.noteError(err.message));
  }

  /** Sanctions shared through this store (one subscriber connection, made on first use). */
  sanctionRelay(): SanctionRelay {
    this.relay ??= new RedisSanctionRelay(this.client, this.keyPrefix, this.log);
    return this.relay;
  }

  /** True when checks are sent to the store now. */
  get usable(): boolean {
    return this.versionOk && this.client.status === 'ready' && performance.now() >= this.openUntil;
  }

  /**
   * Runs the quota script over `keys` (already prefixed) with `args` (the
   * script's ARGV after the mode). Resolves, never rejects, within timeoutMs.
   */
  quota(keys: string[], args: string[], late: LateAnswer | null = null): Promise<QuotaResult> {
    if (!this.usable) {
      this.metrics.calls.inc(['unavailable']);
      return Promise.resolve(UNAVAILABLE);
    }
    return new Promise((resolve) => {
      if (this.queue.length === 0) this.batchStartedAt = performance.now();
      this.queue.push({ keys, args, resolve, late, settled: false, timedOut: false });
      // After the poll phase: every request read in this loop iteration joins the batch.
      this.scheduleFlush();
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    // The debt waits for the replies of checks that timed out: each one may still forgive part of it.
    if (this.owedDue && this.lateOutstanding === 0) {
      this.owedDue = false;
      this.sendOwed();
    }
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const timer = setTimeout(() => {
      for (const p of batch) {
        if (p.settled) continue;
        p.settled = true;
        p.timedOut = true;
        this.lateOutstanding++;
        this.metrics.calls.inc(['timeout']);
        p.resolve(TIMEOUT);
      }
      this.noteFailure(`no answer within ${this.timeoutMs} ms`);
    }, Math.max(1, this.timeoutMs - (performance.now() - this.batchStartedAt)));
    let left = batch.length;
    const done = () => {
      if (--left === 0) clearTimeout(timer);
    };
    for (const p of batch) {
      this.client.ztgateQuota(p.keys.length, ...p.keys, 'c', ...p.args).then(
        (raw) => {
          done();
          this.replied(p);
          const answer = parseAnswer(raw);
          if (!answer) return this.settleError(p, StateErrors.BAD_REPLY.message);
          this.noteSuccess();
          if (p.settled) {
            this.metrics.lateAnswers.inc();
            p.late?.(answer);
            return;
          }
          p.settled = true;
          this.metrics.calls.inc(['ok']);
          p.resolve(answer);
        },
        (err: Error) => {
          done();
          this.replied(p);
          this.settleError(p, err.message);
        },
      );
    }
  }

  private replied(p: Pending): void {
    if (!p.timedOut) return;
    p.timedOut = false;
    if (--this.lateOutstanding === 0 && this.owedDue) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private settleError(p: Pending, message: string): void {
    this.noteFailure(message);
    if (p.settled) return;
    p.settled = true;
    this.metrics.calls.inc(['error']);
    p.resolve(ERROR);
  }

  /**
   * Takes `costs` back from `keys` (each with its script spec): the store
   * charged a check whose answer came too late, and its request was refused
   * on the fallback. Fire and forget.
   */
  refund(keys: readonly string[], costs: readonly number[], specs: readonly (readonly string[])[]): void {
    // The reply just came on this connection: it is alive even if checks are skipped for a while.
    if (this.client.status !== 'ready') return;
    for (let i = 0; i < keys.length; i++) {
      this.client.ztgateQuota(1, keys[i], 'd', String(-costs[i]), ...specs[i], '0').catch((err: Error) => this.noteError(err.message));
      this.metrics.refunded.inc([], costs[i]);
    }
  }

  /**
   * Hits admitted on the fallback while the store was away, charged once it
   * answers again, ahead of new checks on the same connection (so they see
   * them). Charged once: a check that timed out and was answered late was
   * already taken back from the ledger (see LateAnswer).
   */
  private sendOwed(): void {
    if (!this.fallback.hasOwed()) return;
    const owed: OwedDebit[] = this.fallback.takeOwed();
    let units = 0;
    for (const d of owed) {
      units += d.units;
      this.client.ztgateQuota(1, d.key, 'd', String(d.units), ...d.spec, '1').catch((err: Error) => this.noteError(err.message));
    }
    this.metrics.replayed.inc([], units);
    this.log.info({ keys: owed.length, units }, 'state store: hits admitted on the fallback charged to the store');
  }

  private async checkVersion(): Promise<void> {
    try {
      const info = await this.client.info('server');
      const v = serverVersion(info);
      if (!v || v.major < MIN_REDIS_MAJOR) {
        this.versionOk = false;
        const code = StateErrors.WRONG_VERSION;
        this.markDown(`${code.code}: ${code.message}: ${v ? `${v.name} ${v.version}` : 'no version in INFO'}`);
        return;
      }
      this.versionOk = true;
      this.failures = 0;
      this.openUntil = 0;
      this.markUp(`${v.name} ${v.version}`);
    } catch (err) {
      this.noteError((err as Error).message);
    }
  }

  private noteSuccess(): void {
    this.failures = 0;
    if (this.state !== 'up') this.markUp('answering again');
  }

  private noteFailure(message: string): void {
    this.lastError = message;
    if (++this.failures >= FAILURES_TO_OPEN) {
      this.openUntil = performance.now() + OPEN_MS;
      this.failures = 0;
      this.markDown(message);
    }
  }

  private noteError(message: string): void {
    this.lastError = message;
  }

  private markDown(reason: string): void {
    if (this.closed) return;
    this.metrics.up.set([], 0);
    if (this.state === 'down') return;
    this.state = 'down';
    this.metrics.outages.inc();
    this.log.warn({ code: StateErrors.UNAVAILABLE.code, reason }, 'state store unavailable: quotas use each limit\'s onStoreFailure');
  }

  private markUp(detail: string): void {
    this.metrics.up.set([], 1);
    if (this.state === 'up') return;
    this.state = 'up';
    this.owedDue = this.fallback.hasOwed();
    // At once, not with the next check: the debt is on the store before anyone asks.
    if (this.owedDue) this.scheduleFlush();
    void this.relay?.catchUp();
    this.log.info({ server: detail }, 'state store reachable: quotas are decided by the store');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.relay?.close();
    this.client.disconnect();
  }
}

const TIMEOUT: QuotaFailure = Object.freeze({ failure: 'timeout' });
const ERROR: QuotaFailure = Object.freeze({ failure: 'error' });
const UNAVAILABLE: QuotaFailure = Object.freeze({ failure: 'unavailable' });
