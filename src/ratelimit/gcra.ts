/**
 * GCRA (generic cell rate algorithm): a token bucket kept as one number per
 * limit, the theoretical arrival time (TAT). A limit of `count` per `periodMs`
 * emits one unit every `intervalMs = periodMs / count`; the bucket holds
 * `burst` units, i.e. a request is admitted while `TAT' - now <= toleranceMs`
 * with `toleranceMs = intervalMs * burst`. A bucket whose TAT is in the past is
 * full and carries no information (the table may drop it).
 *
 * All arithmetic takes `now` (milliseconds) from an injectable clock.
 */

export interface Clock {
  /** Milliseconds; only differences matter. */
  now(): number;
}

/** Wall-clock milliseconds with sub-millisecond resolution, monotonic within the process. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
};

/** A fake clock for tests. */
export class ManualClock implements Clock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Limit {
  /** Policy name used in the RateLimit headers. */
  readonly name: string;
  /** Units admitted per period. */
  readonly count: number;
  readonly periodMs: number;
  /** Bucket capacity in units (default: count). */
  readonly burst: number;
  /** periodMs / count: the time one unit takes to refill. */
  readonly intervalMs: number;
  /** intervalMs * burst. */
  readonly toleranceMs: number;
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

/** Parses `20/s`, `5000/h`, `100/10s`, `1000000/day`; throws on anything else. */
export function parseRate(text: string): { count: number; periodMs: number } {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*\/\s*([0-9]+)?\s*([a-z]+)\s*$/.exec(text);
  if (!m) throw new Error(`rate "${text}": expected <count>/<unit>, e.g. 20/s or 5000/h`);
  const unit = UNITS[m[3]];
  if (unit === undefined) throw new Error(`rate "${text}": unknown unit "${m[3]}" (ms, s, m, h, d)`);
  const count = Number(m[1]);
  const periodMs = (m[2] === undefined ? 1 : Number(m[2])) * unit;
  if (!(count > 0) || !(periodMs > 0)) throw new Error(`rate "${text}": count and period must be positive`);
  return { count, periodMs };
}

export function makeLimit(name: string, count: number, periodMs: number, burst?: number): Limit {
  if (!(count > 0) || !(periodMs > 0)) throw new Error(`limit ${name}: count and period must be positive`);
  const b = burst ?? count;
  if (!(b >= 1)) throw new Error(`limit ${name}: burst must be at least 1`);
  const intervalMs = periodMs / count;
  return Object.freeze({ name, count, periodMs, burst: b, intervalMs, toleranceMs: intervalMs * b });
}

/** `makeLimit` from a rate string. */
export function limitFromRate(name: string, rate: string, burst?: number): Limit {
  const { count, periodMs } = parseRate(rate);
  return makeLimit(name, count, periodMs, burst);
}

/** The answer for one request against a set of limits. */
export interface Decision {
  allowed: boolean;
  /** Index (in the limits given) of the most constraining limit: the one refusing, or the one with the fewest units left. */
  limitIndex: number;
  /** Units left in that limit after this request (0 when refused). */
  remaining: number;
  /** Milliseconds until that limit's bucket is full again. */
  resetMs: number;
  /** When refused: milliseconds until the same request would be admitted (Infinity if cost exceeds capacity); else 0. */
  retryAfterMs: number;
  /** True when the decision used a reduced share of the limit (partition fallback). */
  fallback: boolean;
}

export function newDecision(): Decision {
  return { allowed: true, limitIndex: 0, remaining: 0, resetMs: 0, retryAfterMs: 0, fallback: false };
}

/**
 * Evaluates `cost` units against every limit in `limits`, with the buckets'
 * TATs in `tats` (same indexes; a missing or stale entry is a full bucket).
 * All limits must admit; if any refuses, no bucket is touched. When admitted
 * and `consume` is true, the TATs are advanced in place.
 *
 * `scale` (0 < scale <= 1) grants only that share of each limit's rate (the
 * fair share when a member is cut off from its peers): the tolerance stays
 * the same in time, so the burst in units scales too, but never below one unit.
 *
 * Writes into `out` and returns it (no allocation).
 */
export function evaluate(
  tats: number[],
  limits: readonly Limit[],
  cost: number,
  now: number,
  consume: boolean,
  out: Decision,
  scale = 1,
): Decision {
  let refused = -1;
  let worstRetry = 0;
  let minIndex = 0;
  let minRemaining = Infinity;
  let minReset = 0;
  for (let i = 0; i < limits.length; i++) {
    const l = limits[i];
    const interval = scale === 1 ? l.intervalMs : l.intervalMs / scale;
    const tolerance = l.toleranceMs > interval ? l.toleranceMs : interval;
    const t = tats[i];
    const base = t !== undefined && t > now ? t : now;
    const next = base + cost * interval;
    const over = next - now - tolerance;
    if (over > 1e-9) {
      // Refused by this limit.
      const retry = cost * interval > tolerance + 1e-9 ? Infinity : over;
      if (refused === -1 || retry > worstRetry) {
        refused = i;
        worstRetry = retry;
        minReset = base - now;
      }
      continue;
    }
    const remaining = Math.floor((tolerance - (next - now)) / interval + 1e-9);
    if (remaining < minRemaining) {
      minRemaining = remaining;
      minIndex = i;
      minReset = next - now;
    }
  }
  out.fallback = scale !== 1;
  if (refused !== -1) {
    out.allowed = false;
    out.limitIndex = refused;
    out.remaining = 0;
    out.resetMs = minReset;
    out.retryAfterMs = worstRetry;
    return out;
  }
  if (consume) {
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i];
      const interval = scale === 1 ? l.intervalMs : l.intervalMs / scale;
      const t = tats[i];
      tats[i] = (t !== undefined && t > now ? t : now) + cost * interval;
    }
  }
  out.allowed = true;
  out.limitIndex = minIndex;
  out.remaining = minRemaining === Infinity ? 0 : minRemaining;
  out.resetMs = minReset;
  out.retryAfterMs = 0;
  return out;
}

/**
 * Applies `cost` units to every limit unconditionally: hits that another
 * member already admitted, applied by the key's owner. The TAT may run past
 * the tolerance (a debt that later refusals pay back, which is what keeps the
 * cluster-wide count accurate), but never more than `maxDebtFactor` times the
 * tolerance past it (so a flood cannot lock a key out for long).
 */
export function consumeAll(tats: number[], limits: readonly Limit[], cost: number, now: number, maxDebtFactor: number): void {
  for (let i = 0; i < limits.length; i++) {
    const l = limits[i];
    const t = tats[i];
    let next = (t !== undefined && t > now ? t : now) + cost * l.intervalMs;
    const cap = now + l.toleranceMs * (1 + maxDebtFactor);
    if (next > cap) next = cap;
    tats[i] = next;
  }
}

/** True when every bucket has refilled completely (the entry carries no information). */
export function isFull(tats: readonly number[], now: number): boolean {
  for (let i = 0; i < tats.length; i++) if (tats[i] > now) return false;
  return true;
}

/** Units left in limit `i` without consuming anything. */
export function remainingOf(tats: readonly number[], limits: readonly Limit[], i: number, now: number): number {
  const l = limits[i];
  const t = tats[i];
  const base = t !== undefined && t > now ? t : now;
  return Math.max(0, Math.floor((l.toleranceMs - (base - now)) / l.intervalMs + 1e-9));
}

/** Convenience: a set of limits and a clock, for one caller's own buckets. */
export class Gcra {
  private readonly out = newDecision();
  constructor(
    readonly limits: readonly Limit[],
    private readonly clock: Clock = systemClock,
  ) {}

  /** Checks and (if admitted) consumes; returns a shared decision object, valid until the next call. */
  check(tats: number[], cost = 1): Decision {
    return evaluate(tats, this.limits, cost, this.clock.now(), true, this.out);
  }
}

/**
 * A named set of limits evaluated together for one key (compiled once per
 * route stage). The id must be the same in every member of the cluster for
 * the same config: it travels in gossip with the hits.
 */
export interface Policy {
  readonly id: string;
  readonly limits: readonly Limit[];
}
