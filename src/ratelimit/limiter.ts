import { consumeAll, evaluate, newDecision, systemClock, type Clock, type Decision, type Policy } from './gcra.js';
import { mix32 } from '../util/hash.js';
import { Gossip, MAX_PAYLOAD, type GossipLog } from './gossip.js';
import { serviceKey } from '../pipeline/services.js';
import { BucketTable, hashKey, type Bucket, type TableStats } from './table.js';

/**
 * The distributed limiter (the shape of Gubernator's GLOBAL mode, over the
 * gossip channel):
 *
 * - each key has one owner among the members that may own keys (alive, not
 *   suspect), chosen by rendezvous hashing; the owner's buckets are
 *   authoritative;
 * - every member decides locally, at once, from the state it last heard plus
 *   its own hits; a non-owner reports its admitted hits to the owner in
 *   batches every `flushMs`; the owner applies them unconditionally (a debt,
 *   bounded, that later refusals pay back: this is what keeps the cluster-wide
 *   count close to the limit even though members decide on stale state) and
 *   broadcasts the new state of the keys that changed;
 * - a key whose owner has been silent for `staleOwnerMs` is decided on a fair
 *   share (limit / live members) until the owner is heard again or is
 *   replaced; when a member is removed (about 1 s of silence by default) its
 *   keys move to the others with the state they last heard, so its share
 *   returns to them;
 * - a key new to the cluster is decided on a share of its burst (burst /
 *   members) until the members agree on it: a non-owner until it hears the
 *   owner's state for it, the owner for `syncMs` after it first saw the key,
 *   so a burst spread over N members at once admits about the burst, not N
 *   bursts (each member deciding alone on a full bucket);
 * - a member cut off from every peer it had (the channel is cut, or all the
 *   others died) decides on its fair share, limit / members last seen, for
 *   `fallbackForgetMs`; `metrics().isolated` and `fallbackDecisions` show it.
 *
 * Without gossip it is a plain in-process limiter.
 */

export interface LimiterOptions {
  gossip?: Gossip | null;
  /** Bucket table shards (ZTGATE_SHARDS); default 64. */
  shards?: number;
  /** Hard cap on keys held; default 1,000,000. */
  maxEntries?: number;
  clock?: Clock;
  /** Batch period for hits and state (default 50 ms). */
  flushMs?: number;
  /** Owner silence after which its keys are decided on a fair share (default 300 ms). */
  staleOwnerMs?: number;
  /** How long an isolated member keeps to its fair share before assuming the others are gone (default 60 s). */
  fallbackForgetMs?: number;
  /** Debt an owner may accumulate from reported hits, in bucket capacities (default 3). */
  maxDebtFactor?: number;
  /** Datagrams sent per flush at most, for hits and for state each (default 48); the rest waits for the next flush. */
  maxDatagramsPerFlush?: number;
  /** Told when this member enters or leaves its fair-share fallback. */
  log?: GossipLog;
}

export interface LimiterMetrics {
  decisions: number;
  admitted: number;
  refused: number;
  /** Decisions taken on a fair share (owner silent, or this member isolated). */
  fallbackDecisions: number;
  /** 1 while cut off from every peer and deciding on a fair share. */
  isolated: number;
  /** The share used while isolated (1 otherwise). */
  share: number;
  /** Members (ourselves included) that may own keys. */
  members: number;
  hitsSent: number;
  hitsReceived: number;
  statesSent: number;
  statesReceived: number;
  /** Entries naming a policy this member does not know (config differs between members). */
  unknownPolicy: number;
  table: TableStats;
}

const HITS = 'h';
/** Room for a batch's JSON in one datagram, with a margin. */
const CHUNK_BUDGET = MAX_PAYLOAD - 8;
const STATE = 's';


/** Rendezvous (highest random weight) choice of a member for a key hash. */
export function rendezvous(hash: number, members: readonly string[], seedOf: (id: string) => number): string {
  let best = '';
  let bestScore = -1;
  for (let i = 0; i < members.length; i++) {
    const id = members[i];
    const score = mix32(hash ^ seedOf(id));
    if (score > bestScore || (score === bestScore && id < best)) {
      best = id;
      bestScore = score;
    }
  }
  return best;
}

export class DistributedLimiter {
  readonly table: BucketTable;
  private gossip: Gossip | null;
  private readonly clock: Clock;
  private readonly flushMs: number;
  private readonly staleOwnerMs: number;
  private readonly fallbackForgetMs: number;
  private readonly maxDebtFactor: number;
  private readonly maxDatagramsPerFlush: number;
  private readonly log: GossipLog | null;
  private readonly policies = new Map<string, Policy>();
  private readonly seeds = new Map<string, number>();
  /** Buckets with hits to report to their owner. */
  private outbox: Bucket[] = [];
  /** Buckets we own whose state changed since the last broadcast. */
  private changedList: Bucket[] = [];
  private timer: NodeJS.Timeout | null = null;
  private share = 1;
  /** New keys decided on a share of their burst until synchronized (bounded; see check()). */
  private readonly unsynced = new Map<Bucket, { since: number; admitted: number }>();
  private readonly syncMs: number;
  private peak = 1;
  private lastHadPeers = 0;
  private readonly m = {
    decisions: 0,
    admitted: 0,
    refused: 0,
    fallbackDecisions: 0,
    hitsSent: 0,
    hitsReceived: 0,
    statesSent: 0,
    statesReceived: 0,
    unknownPolicy: 0,
  };
  private readonly onMessage = (from: string, kind: string, body: unknown): void => {
    if (kind === HITS) this.onHits(from, body);
    else if (kind === STATE) this.onState(body);
  };

  constructor(options: LimiterOptions = {}) {
    this.gossip = options.gossip ?? null;
    this.clock = options.clock ?? systemClock;
    this.table = new BucketTable({ shards: options.shards ?? 64, maxEntries: options.maxEntries ?? 1_000_000, clock: this.clock });
    this.flushMs = options.flushMs ?? 50;
    this.staleOwnerMs = options.staleOwnerMs ?? 300;
    // A non-owner reports within one flush and the owner answers within the next: three leave margin.
    this.syncMs = 3 * this.flushMs + 50;
    this.fallbackForgetMs = options.fallbackForgetMs ?? 60_000;
    this.maxDebtFactor = options.maxDebtFactor ?? 3;
    this.maxDatagramsPerFlush = options.maxDatagramsPerFlush ?? 48;
    this.log = options.log ?? null;
    this.gossip?.on('message', this.onMessage);
  }

  /**
   * Joins a gossip channel started after the limiter (a process starts it only once a config has
   * rate limits): from then on buckets are shared; until then every decision was this process's.
   */
  attachGossip(gossip: Gossip): void {
    if (this.gossip) return;
    this.gossip = gossip;
    gossip.on('message', this.onMessage);
  }

  /** Makes a policy known, so hits and state naming its id can be applied (every stage registers its policies). */
  register(policy: Policy): void {
    this.policies.set(policy.id, policy);
  }

  /** Starts the batching timer and the idle-bucket sweeper. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.flushMs);
    this.timer.unref();
    this.table.startSweeper(1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.table.stopSweeper();
    this.gossip?.off('message', this.onMessage);
  }

  private seedOf = (id: string): number => {
    let s = this.seeds.get(id);
    if (s === undefined) {
      s = hashKey(id);
      if (this.seeds.size > 10_000) this.seeds.clear();
      this.seeds.set(id, s);
    }
    return s;
  };

  /** The member owning a key ('' when it is this member). */
  ownerOf(key: string): string {
    return this.ownerOfHash(hashKey(key));
  }

  private ownerOfHash(hash: number): string {
    const g = this.gossip;
    if (!g) return '';
    const owner = rendezvous(hash, g.owners(), this.seedOf);
    return owner === g.id ? '' : owner;
  }

  /**
   * Decides one request of `cost` units for `key` against every limit of
   * `policy` (all must admit; nothing is consumed on a refusal). Synchronous;
   * allocates only the returned decision. With `dryRun`, nothing is consumed
   * (to test several policies before committing them all).
   */
  check(key: string, policy: Policy, cost = 1, dryRun = false): Decision {
    const now = this.clock.now();
    const hash = hashKey(key);
    const b = this.table.getOrCreate(key, hash, policy);
    const g = this.gossip;
    let scale = 1;
    if (g !== null) {
      if (b.ownerEpoch !== g.epoch) {
        b.owner = this.ownerOfHash(hash);
        b.ownerEpoch = g.epoch;
      }
      if (this.share !== 1) scale = this.share;
      else if (b.owner !== '' && now - g.lastHeard(b.owner) > this.staleOwnerMs) scale = 1 / g.live().length;
    }
    const early = g !== null && scale === 1 ? this.earlyShare(b, now, g.owners().length) : null;
    const d = evaluate(b.tats, policy.limits, cost, now, !dryRun && early === null, newDecision(), scale);
    if (early !== null && d.allowed) {
      // A key the members have not agreed on yet: this member's share of the burst at most.
      if (early.admitted + cost > earlyCap(policy, g!.owners().length)) {
        d.allowed = false;
        d.remaining = 0;
        d.retryAfterMs = this.syncMs;
      } else if (!dryRun) {
        evaluate(b.tats, policy.limits, cost, now, true, d, 1);
        early.admitted += cost;
      }
    }
    if (dryRun) return d;
    this.m.decisions++;
    if (scale !== 1) this.m.fallbackDecisions++;
    if (!d.allowed) {
      this.m.refused++;
      return d;
    }
    this.m.admitted++;
    if (g !== null) {
      if (b.owner !== '') {
        if (b.pending === 0) this.outbox.push(b);
        b.pending += cost;
      } else if (b.shared && !b.changed) {
        b.changed = true;
        this.changedList.push(b);
      }
    }
    return d;
  }

  /**
   * The early-share record of a bucket the members have not agreed on, or null
   * once they have. A bucket no member has used (every TAT 0) starts one when
   * there are other members; the owner's ends after syncMs, a non-owner's when
   * the owner's state for the key arrives (onState).
   */
  private earlyShare(b: Bucket, now: number, members: number): { since: number; admitted: number } | null {
    let e = this.unsynced.size === 0 ? undefined : this.unsynced.get(b);
    if (e === undefined) {
      if (members < 2 || !neverUsed(b.tats) || this.unsynced.size >= MAX_UNSYNCED) return null;
      this.unsynced.set(b, (e = { since: now, admitted: 0 }));
    }
    if (now - e.since > (b.owner === '' ? this.syncMs : this.syncMs * 10)) {
      this.unsynced.delete(b); // the owner's window is over; a non-owner never answered is not held forever
      return null;
    }
    return e;
  }

  // --- batching -------------------------------------------------------------

  /** Sends pending hits to owners and changed state to peers (runs every flushMs). */
  flush(): void {
    const g = this.gossip;
    if (!g) return;
    const now = this.clock.now();
    this.updateIsolation(now);
    if (this.unsynced.size > 0) for (const [b, e] of this.unsynced) if (now - e.since > this.syncMs * 10) this.unsynced.delete(b);
    this.flushHits(g);
    this.flushState(g, now);
  }

  private updateIsolation(now: number): void {
    const was = this.share;
    this.computeShare(now);
    if (this.share !== was && this.log) {
      if (this.share !== 1) this.log.warn({ share: this.share, membersLastSeen: this.peak }, 'rate limiter: cut off from every peer, deciding on a fair share of each limit');
      else this.log.info({ members: this.gossip!.live().length }, 'rate limiter: back to full limits');
    }
  }

  private computeShare(now: number): void {
    const live = this.gossip!.live().length;
    if (live > 1) {
      this.peak = live;
      this.lastHadPeers = now;
      this.share = 1;
    } else if (this.peak > 1 && now - this.lastHadPeers < this.fallbackForgetMs) {
      this.share = 1 / this.peak;
    } else {
      this.peak = 1;
      this.share = 1;
    }
  }

  private flushHits(g: Gossip): void {
    if (this.outbox.length === 0) return;
    const budget = CHUNK_BUDGET - Gossip.overhead(HITS);
    const byOwner = new Map<string, { entries: [string, string, number][]; size: number }>();
    let datagrams = 0;
    let i = 0;
    for (; i < this.outbox.length; i++) {
      const b = this.outbox[i];
      if (b.pending <= 0) continue;
      if (b.ownerEpoch !== g.epoch) {
        b.owner = this.ownerOfHash(b.hash);
        b.ownerEpoch = g.epoch;
      }
      if (b.owner === '') {
        // Ownership moved to us: our buckets already count these hits; peers need the state.
        b.pending = 0;
        b.shared = true;
        this.markChanged(b);
        continue;
      }
      const entry: [string, string, number] = [b.key, b.policy.id, b.pending];
      const len = Buffer.byteLength(JSON.stringify(entry)) + 1;
      let slot = byOwner.get(b.owner);
      if (!slot) byOwner.set(b.owner, (slot = { entries: [], size: 2 }));
      if (slot.size + len > budget && slot.entries.length > 0) {
        if (datagrams >= this.maxDatagramsPerFlush) break; // the rest waits for the next flush
        this.sendHits(g, b.owner, slot.entries);
        datagrams++;
        slot.entries = [];
        slot.size = 2;
      }
      slot.entries.push(entry);
      slot.size += len;
      b.pending = 0;
    }
    for (const [owner, slot] of byOwner) if (slot.entries.length) this.sendHits(g, owner, slot.entries);
    this.outbox = i >= this.outbox.length ? [] : this.outbox.slice(i);
  }

  private sendHits(g: Gossip, owner: string, entries: [string, string, number][]): void {
    if (g.send(owner, HITS, entries)) this.m.hitsSent += entries.length;
  }

  private markChanged(b: Bucket): void {
    if (!b.changed) {
      b.changed = true;
      this.changedList.push(b);
    }
  }

  private flushState(g: Gossip, now: number): void {
    if (this.changedList.length === 0) return;
    if (g.live().length < 2) {
      for (const b of this.changedList) b.changed = false;
      this.changedList = [];
      return;
    }
    const budget = CHUNK_BUDGET - Gossip.overhead(STATE);
    // Each broadcast is one datagram per peer.
    const maxChunks = Math.max(1, Math.floor(this.maxDatagramsPerFlush / (g.live().length - 1)));
    let chunks = 0;
    let entries: [string, string, number[]][] = [];
    let size = 2;
    let i = 0;
    for (; i < this.changedList.length; i++) {
      const b = this.changedList[i];
      const offsets = b.tats.map((t) => (t > now ? Math.round((t - now) * 100) / 100 : 0));
      const entry: [string, string, number[]] = [b.key, b.policy.id, offsets];
      const len = Buffer.byteLength(JSON.stringify(entry)) + 1;
      if (size + len > budget && entries.length > 0) {
        if (chunks >= maxChunks) break;
        this.sendState(g, entries);
        chunks++;
        entries = [];
        size = 2;
      }
      b.changed = false;
      entries.push(entry);
      size += len;
    }
    if (entries.length) this.sendState(g, entries);
    this.changedList = i >= this.changedList.length ? [] : this.changedList.slice(i);
  }

  private sendState(g: Gossip, entries: [string, string, number[]][]): void {
    if (g.broadcast(STATE, entries) > 0) this.m.statesSent += entries.length;
  }

  /** At the owner: hits other members admitted. */
  private onHits(from: string, body: unknown): void {
    if (!Array.isArray(body)) return;
    const now = this.clock.now();
    for (const e of body) {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || typeof e[2] !== 'number') continue;
      const cost = e[2];
      if (!(cost > 0 && cost < 1e9)) continue;
      const policy = this.policies.get(e[1]);
      if (!policy) {
        this.m.unknownPolicy++;
        continue;
      }
      this.m.hitsReceived++;
      const key = e[0];
      const b = this.table.getOrCreate(key, hashKey(key), policy);
      consumeAll(b.tats, policy.limits, cost, now, this.maxDebtFactor);
      b.shared = true;
      this.markChanged(b);
    }
    void from;
  }

  /** At every member: an owner's state for keys that changed. */
  private onState(body: unknown): void {
    if (!Array.isArray(body)) return;
    const now = this.clock.now();
    for (const e of body) {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || !Array.isArray(e[2])) continue;
      const policy = this.policies.get(e[1]);
      if (!policy) {
        this.m.unknownPolicy++;
        continue;
      }
      const offsets = e[2] as unknown[];
      if (offsets.length !== policy.limits.length) continue;
      this.m.statesReceived++;
      const key = e[0];
      const b = this.table.getOrCreate(key, hashKey(key), policy);
      this.unsynced.delete(b); // the owner has spoken for this key
      for (let i = 0; i < offsets.length; i++) {
        const off = offsets[i];
        if (typeof off !== 'number' || !(off >= 0) || off > 1e12) continue;
        // The owner's TAT, plus what we admitted and have not reported yet.
        let remote = off > 0 ? now + off : 0;
        if (b.pending > 0) remote = (remote > now ? remote : now) + b.pending * policy.limits[i].intervalMs;
        if (remote > b.tats[i]) b.tats[i] = remote;
      }
    }
  }

  metrics(): LimiterMetrics {
    const g = this.gossip;
    return {
      ...this.m,
      isolated: this.share !== 1 ? 1 : 0,
      share: this.share,
      members: g ? g.owners().length : 1,
      table: this.table.stats(),
    };
  }
}

/** Buckets held on an early share at once; beyond, new keys are decided as before (full bucket). */
const MAX_UNSYNCED = 100_000;

function neverUsed(tats: number[]): boolean {
  for (let i = 0; i < tats.length; i++) if (tats[i] !== 0) return false;
  return true;
}

/** Units one of `members` may admit on a key before they agree on it: its share of the smallest burst, at least one. */
function earlyCap(policy: Policy, members: number): number {
  let cap = Infinity;
  for (const l of policy.limits) {
    const burst = Math.floor(l.toleranceMs / l.intervalMs + 1e-9);
    const share = Math.max(1, Math.floor(burst / members));
    if (share < cap) cap = share;
  }
  return cap;
}

/** The process's rate limiter (buckets shared with the other members over gossip). */
export const RATE_LIMITER = serviceKey<DistributedLimiter>('rate limiter');
