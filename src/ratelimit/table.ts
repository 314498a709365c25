import { isFull, systemClock, type Clock, type Policy } from './gcra.js';
import { fnv1a32 } from '../util/hash.js';

/** A key's hash: picks its shard, and seeds rendezvous hashing of its owner. */
export const hashKey = fnv1a32;

/** One key's buckets (one TAT per limit of its policy) and the limiter's bookkeeping. */
export class Bucket {
  /** TAT per limit of `policy`, in local clock milliseconds (0: full). */
  tats: number[];
  /** Units admitted here and not yet reported to the key's owner. */
  pending = 0;
  /** Second-chance bit: set on use, cleared when the cap evictor passes over it. */
  ref = true;
  /** Membership epoch `owner` was computed for. */
  ownerEpoch = -1;
  /** Member id owning the key ('' = this member). */
  owner = '';
  /** Set when the owner changed this bucket and peers have not been told yet. */
  changed = false;
  /** Set on the owner once another member reported hits for the key: its state is worth broadcasting. */
  shared = false;
  constructor(
    readonly key: string,
    readonly hash: number,
    public policy: Policy,
  ) {
    // Exactly sized (a [] grown by assignment reserves 17 slots).
    this.tats = policy.limits.length === 1 ? [0] : policy.limits.length === 2 ? [0, 0] : policy.limits.map(() => 0);
  }
}

export interface TableOptions {
  /** Number of shards (ZTGATE_SHARDS). */
  shards: number;
  /** Hard cap on entries in the whole table; each shard holds at most ceil(maxEntries / shards). */
  maxEntries: number;
  clock?: Clock;
}

export interface TableStats {
  size: number;
  /** Buckets dropped because they had refilled completely. */
  evictedIdle: number;
  /** Buckets dropped to stay under the cap while still holding state. */
  evictedCap: number;
}

/** How many entries the cap evictor looks at from a shard's oldest end before it evicts regardless. */
const SECOND_CHANCE_SCAN = 8;

/**
 * A sharded, bounded map of buckets keyed by strings. A bucket that has
 * refilled completely is dropped by the sweeper (it is indistinguishable from
 * a missing one). Each shard has a hard cap: inserting into a full shard
 * evicts its oldest entry, idle entries first, giving recently used ones a
 * second chance (CLOCK), so an attacker rotating keys cannot push a busy key
 * out before the keys it rotates through.
 */
export class BucketTable {
  readonly shards: Map<string, Bucket>[];
  readonly perShardCap: number;
  private readonly clock: Clock;
  private sweepCursor = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private evictedIdle = 0;
  private evictedCap = 0;

  constructor(options: TableOptions) {
    const shards = Math.max(1, Math.floor(options.shards));
    this.shards = Array.from({ length: shards }, () => new Map<string, Bucket>());
    this.perShardCap = Math.max(1, Math.ceil(options.maxEntries / shards));
    this.clock = options.clock ?? systemClock;
  }

  shardOf(hash: number): Map<string, Bucket> {
    return this.shards[hash % this.shards.length];
  }

  get(key: string, hash = hashKey(key)): Bucket | undefined {
    const b = this.shardOf(hash).get(key);
    if (b !== undefined) b.ref = true;
    return b;
  }

  /** The key's bucket, created (evicting as needed) when missing. */
  getOrCreate(key: string, hash: number, policy: Policy): Bucket {
    const shard = this.shardOf(hash);
    let b = shard.get(key);
    if (b !== undefined) {
      b.ref = true;
      if (b.policy !== policy) {
        // Config reloaded: a new policy object (possibly other limits) for the same key.
        if (b.policy.limits.length !== policy.limits.length) b.tats = policy.limits.map(() => 0);
        b.policy = policy;
      }
      return b;
    }
    if (shard.size >= this.perShardCap) this.evictOne(shard);
    b = new Bucket(key, hash, policy);
    shard.set(key, b);
    return b;
  }

  delete(key: string, hash = hashKey(key)): boolean {
    return this.shardOf(hash).delete(key);
  }

  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  stats(): TableStats {
    return { size: this.size, evictedIdle: this.evictedIdle, evictedCap: this.evictedCap };
  }

  *values(): IterableIterator<Bucket> {
    for (const s of this.shards) yield* s.values();
  }

  clear(): void {
    for (const s of this.shards) s.clear();
  }

  private evictOne(shard: Map<string, Bucket>): void {
    const now = this.clock.now();
    let scanned = 0;
    for (const [key, b] of shard) {
      if (b.pending === 0 && isFull(b.tats, now)) {
        shard.delete(key);
        this.evictedIdle++;
        return;
      }
      if (b.ref && ++scanned < SECOND_CHANCE_SCAN) {
        // Second chance: move to the young end.
        b.ref = false;
        shard.delete(key);
        shard.set(key, b);
        continue;
      }
      shard.delete(key);
      this.evictedCap++;
      return;
    }
  }

  /**
   * Drops idle buckets from the next `shardCount` shards (round robin), so a
   * timer can spread the work. Returns how many were dropped.
   */
  sweep(shardCount = this.shards.length): number {
    const now = this.clock.now();
    let dropped = 0;
    for (let n = 0; n < shardCount && n < this.shards.length; n++) {
      const shard = this.shards[this.sweepCursor];
      this.sweepCursor = (this.sweepCursor + 1) % this.shards.length;
      for (const [key, b] of shard) {
        if (b.pending === 0 && !b.changed && isFull(b.tats, now)) {
          shard.delete(key);
          dropped++;
        }
      }
    }
    this.evictedIdle += dropped;
    return dropped;
  }

  /** Sweeps every shard once per `periodMs`, a few shards per tick (timer unref'd). */
  startSweeper(periodMs = 1000): void {
    if (this.sweeper) return;
    const ticks = Math.min(this.shards.length, 20);
    const perTick = Math.ceil(this.shards.length / ticks);
    this.sweeper = setInterval(() => this.sweep(perTick), Math.max(10, Math.floor(periodMs / ticks)));
    this.sweeper.unref();
  }

  stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
