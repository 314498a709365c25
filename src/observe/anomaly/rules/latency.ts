import { LRUCache } from 'lru-cache';
import type { RequestRecord } from '../../request-record.js';
import { decayFor, Ewma } from '../ewma.js';
import { round, subjectOf, windowsEnded, type Finding, type Rule, type Subjects } from '../rule.js';
import type { AlertsSection, LatencyRule } from '../types.js';

/** Log-scale buckets: bucket i holds [0.1 ms × 1.2^i, 0.1 ms × 1.2^(i+1)); the last one everything above ~3.5 min. */
const BUCKETS = 80;
const LOWEST_MS = 0.1;
const LN_RATIO = Math.log(1.2);

function bucketOf(ms: number): number {
  if (ms <= LOWEST_MS) return 0;
  const i = Math.floor(Math.log(ms / LOWEST_MS) / LN_RATIO);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** The upper bound of the bucket holding the q-quantile: within 20% above the true value. */
function quantileOf(hist: Uint32Array, count: number, q: number): number {
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += hist[i];
    if (seen >= rank) return LOWEST_MS * 1.2 ** (i + 1);
  }
  return LOWEST_MS * 1.2 ** BUCKETS;
}

interface State {
  start: number;
  readonly hist: Uint32Array;
  count: number;
  /** Requests of this window at or above `threshold`. */
  over: number;
  /** Fixed for a window: the baseline changes only when a window ends. */
  threshold: number;
  firstSeen: number;
  quietUntil: number;
  /** The window quantile of past windows with at least minRequests. */
  readonly average: Ewma;
}

/**
 * Latency: a quantile (p90 by default) of the present window against the
 * moving average of past windows' quantile, by a factor and above minMs.
 * Only forwarded requests count (a refusal's few microseconds say nothing
 * about the service). Per request it costs one bucket increment and one
 * comparison: the present quantile is above the threshold exactly when more
 * than (1 - q) of the window's requests are.
 */
export class Latency implements Rule {
  private readonly table: LRUCache<string, State>;
  private readonly keep: number;
  private readonly warmupMs: number;
  private readonly cooldownMs: number;
  private readonly upstream: boolean;

  constructor(
    readonly config: LatencyRule,
    section: AlertsSection,
  ) {
    this.table = new LRUCache({ max: section.maxKeys });
    this.keep = decayFor(config.windowMs, config.halfLifeMs ?? section.halfLifeMs);
    this.warmupMs = config.warmupMs ?? section.warmupMs;
    this.cooldownMs = config.cooldownMs ?? section.cooldownMs;
    this.upstream = config.measure === 'upstream';
  }

  get size(): number {
    return this.table.size;
  }

  observe(record: RequestRecord, now: number, subjects: Subjects): Finding | null {
    if (record.status === 0 || record.upstreamMs === null) return null;
    const ms = this.upstream ? record.upstreamMs : record.totalMs;
    if (!(ms >= 0)) return null; // NaN or negative: a broken measurement, not a latency
    const subject = subjectOf(this.config.per, subjects);
    if (subject === null) return null;
    const c = this.config;
    let st = this.table.get(subject);
    if (st === undefined) {
      st = { start: now, hist: new Uint32Array(BUCKETS), count: 0, over: 0, threshold: Infinity, firstSeen: now, quietUntil: 0, average: new Ewma() };
      this.table.set(subject, st);
    } else {
      const ended = windowsEnded(st.start, now, c.windowMs);
      if (ended > 0) {
        if (st.count >= c.minRequests) st.average.add(quantileOf(st.hist, st.count, c.quantile), this.keep);
        st.start += ended * c.windowMs;
        st.hist.fill(0);
        st.count = 0;
        st.over = 0;
        st.threshold = st.average.known ? Math.max(c.minMs, c.factor * st.average.value) : Infinity;
      }
    }
    st.hist[bucketOf(ms)]++;
    st.count++;
    if (ms >= st.threshold) st.over++;
    if (st.count < c.minRequests || st.over <= (1 - c.quantile) * st.count) return null;
    if (now < st.quietUntil || now - st.firstSeen < this.warmupMs) return null;
    st.quietUntil = now + this.cooldownMs;
    return {
      subject,
      observed: round(quantileOf(st.hist, st.count, c.quantile)),
      baseline: round(st.average.value),
      threshold: round(st.threshold),
      unit: `ms p${Math.round(c.quantile * 100)}`,
    };
  }
}
