import { LRUCache } from 'lru-cache';
import { evaluate, newDecision, type Decision, type Limit } from '../ratelimit/gcra.js';

/** A debt for the store: units admitted for `key` while the store was away. */
export interface OwedDebit {
  key: string;
  units: number;
  /** The key's limits as the quota script reads them (count, then interval and tolerance pairs). */
  spec: readonly string[];
}

/** Keys held at most, for fallback buckets and for debts each: an attacker rotating keys cannot grow them. */
const MAX_KEYS = 100_000;

/**
 * What a process decides on its own while the store is away: a local GCRA
 * bucket per quota key granting `share` of the limit's rate and burst (the
 * processes of the fleet together admit about one limit's worth), and the
 * ledger of what it admitted that way, charged to the store once it answers.
 */
export class FallbackLedger {
  private readonly buckets = new LRUCache<string, number[]>({ max: MAX_KEYS });
  private readonly owed = new LRUCache<string, OwedDebit>({ max: MAX_KEYS });
  private readonly out = newDecision();

  constructor(readonly share: number) {}

  /** Checks one key's limits on its local bucket at this process's share, charging when `consume`. Shared result, valid until the next call. */
  check(key: string, limits: readonly Limit[], cost: number, now: number, consume: boolean): Decision {
    let tats = this.buckets.get(key);
    if (!tats) {
      tats = [];
      if (consume) this.buckets.set(key, tats);
    }
    return evaluate(tats, limits, cost, now, consume, this.out, this.share);
  }

  owe(key: string, units: number, spec: readonly string[]): void {
    const d = this.owed.get(key);
    if (d) d.units += units;
    else this.owed.set(key, { key, units, spec });
  }

  /** A check that timed out was answered after all: the store has charged it, so the ledger must not. */
  forgive(key: string, units: number): void {
    const d = this.owed.get(key);
    if (!d) return;
    d.units -= units;
    if (d.units <= 0) this.owed.delete(key);
  }

  hasOwed(): boolean {
    return this.owed.size > 0;
  }

  takeOwed(): OwedDebit[] {
    const all = [...this.owed.values()];
    this.owed.clear();
    return all;
  }
}
