import type { Limit } from '../ratelimit/gcra.js';
import { systemClock } from '../ratelimit/gcra.js';
import type { QuotaAnswer, StateStore } from './store.js';

/** What a limit does when the store cannot answer in time. */
export type StoreFailurePolicy = 'local' | 'allow' | 'deny';

/** Limits checked in the store together: one key, one cost, one failure policy. */
export interface QuotaGroup {
  /** Same in every process and host for the same config: part of the store key. */
  readonly id: string;
  readonly limits: readonly Limit[];
  readonly onStoreFailure: StoreFailurePolicy;
}

/** The decision over every quota group of a request. */
export interface QuotaDecision {
  allowed: boolean;
  /** The most constraining group and its limit. */
  groupIndex: number;
  limitIndex: number;
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
  /** Decided without the store (by onStoreFailure). */
  fallback: boolean;
}

/** How long a `deny` refusal tells the client to wait: about when the store is tried again. */
const DENY_RETRY_MS = 1000;

/** The script's description of a group's limits: count, then interval and tolerance in microseconds. */
function specOf(limits: readonly Limit[]): string[] {
  const spec = [String(limits.length)];
  for (const l of limits) spec.push(String(l.intervalMs * 1000), String(l.toleranceMs * 1000));
  return spec;
}

/**
 * The quota limits of one rate-limit stage's limit list, checked in the store
 * in one round trip (every group in one script call: all admit or nothing is
 * charged), or, when the store fails, by each group's onStoreFailure.
 */
export class StoreQuotas {
  private readonly specs: string[][];
  private readonly prefixes: string[];

  constructor(
    private readonly store: StateStore,
    readonly groups: readonly QuotaGroup[],
  ) {
    this.specs = groups.map((g) => specOf(g.limits));
    this.prefixes = groups.map((g) => `${store.keyPrefix}${g.id}:`);
  }

  /** `keys[i]` and `costs[i]` for `groups[i]`. */
  async check(keys: readonly string[], costs: readonly number[]): Promise<QuotaDecision> {
    const storeKeys = keys.map((k, i) => this.prefixes[i] + k);
    const args: string[] = [];
    for (let i = 0; i < this.groups.length; i++) args.push(String(costs[i]), ...this.specs[i]);
    let owedNow: boolean[] | null = null;
    const result = await this.store.quota(storeKeys, args, (late) => {
      if (!late.allowed) return;
      // Answered after the timeout, and charged: if the fallback admitted the request, the ledger
      // must not charge it again; if the fallback refused it, the store gives the units back.
      if (owedNow) {
        for (let i = 0; i < storeKeys.length; i++) if (owedNow[i]) this.store.fallback.forgive(storeKeys[i], costs[i]);
      } else {
        this.store.refund(storeKeys, costs, this.specs);
      }
    });
    if (result.allowed !== undefined) return fromAnswer(result);
    const d = this.decideWithoutStore(storeKeys, costs);
    if (d.allowed) {
      owedNow = this.groups.map((g) => g.onStoreFailure !== 'deny');
      for (let i = 0; i < storeKeys.length; i++) if (owedNow[i]) this.store.fallback.owe(storeKeys[i], costs[i], this.specs[i]);
    }
    return d;
  }

  private decideWithoutStore(storeKeys: readonly string[], costs: readonly number[]): QuotaDecision {
    const fallback = this.store.fallback;
    const counter = this.store.metrics.fallbacks;
    const now = systemClock.now();
    const out: QuotaDecision = { allowed: true, groupIndex: 0, limitIndex: 0, remaining: Infinity, resetMs: 0, retryAfterMs: 0, fallback: true };
    let local = false;
    for (let i = 0; i < this.groups.length; i++) {
      const g = this.groups[i];
      counter.inc([g.onStoreFailure]);
      if (g.onStoreFailure === 'allow') continue;
      if (g.onStoreFailure === 'deny') return { allowed: false, groupIndex: i, limitIndex: 0, remaining: 0, resetMs: DENY_RETRY_MS, retryAfterMs: DENY_RETRY_MS, fallback: true };
      local = true;
      const d = fallback.check(storeKeys[i], g.limits, costs[i], now, false);
      if (!d.allowed) return { allowed: false, groupIndex: i, limitIndex: d.limitIndex, remaining: 0, resetMs: d.resetMs, retryAfterMs: d.retryAfterMs, fallback: true };
      if (d.remaining < out.remaining) Object.assign(out, { groupIndex: i, limitIndex: d.limitIndex, remaining: d.remaining, resetMs: d.resetMs });
    }
    if (local) for (let i = 0; i < this.groups.length; i++) if (this.groups[i].onStoreFailure === 'local') fallback.check(storeKeys[i], this.groups[i].limits, costs[i], now, true);
    if (out.remaining === Infinity) out.remaining = this.groups[0].limits[0].burst;
    return out;
  }
}

function fromAnswer(a: QuotaAnswer): QuotaDecision {
  return { allowed: a.allowed, groupIndex: a.keyIndex, limitIndex: a.limitIndex, remaining: a.remaining, resetMs: a.resetMs, retryAfterMs: a.retryAfterMs, fallback: false };
}
