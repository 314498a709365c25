import { LRUCache } from 'lru-cache';
import type { RequestRecord } from '../../request-record.js';
import { decayFor, Ewma } from '../ewma.js';
import { round, subjectOf, windowsEnded, type Finding, type Rule, type Subjects } from '../rule.js';
import type { AlertsSection, ErrorsRule } from '../types.js';

interface State {
  start: number;
  total: number;
  errors: number;
  firstSeen: number;
  quietUntil: number;
  /** 5xx ratio of past windows that had at least minRequests. */
  readonly average: Ewma;
}

/**
 * Error ratio: the share of 5xx answers (the gateway's or the upstream's) in
 * the present window against its moving average, by a factor and at least
 * minRatio, once the window has minRequests. A client that went away
 * (status 0) is not an error.
 */
export class ErrorRatio implements Rule {
  private readonly table: LRUCache<string, State>;
  private readonly keep: number;
  private readonly warmupMs: number;
  private readonly cooldownMs: number;

  constructor(
    readonly config: ErrorsRule,
    section: AlertsSection,
  ) {
    this.table = new LRUCache({ max: section.maxKeys });
    this.keep = decayFor(config.windowMs, config.halfLifeMs ?? section.halfLifeMs);
    this.warmupMs = config.warmupMs ?? section.warmupMs;
    this.cooldownMs = config.cooldownMs ?? section.cooldownMs;
  }

  get size(): number {
    return this.table.size;
  }

  observe(record: RequestRecord, now: number, subjects: Subjects): Finding | null {
    if (record.status === 0) return null;
    const subject = subjectOf(this.config.per, subjects);
    if (subject === null) return null;
    const c = this.config;
    let st = this.table.get(subject);
    if (st === undefined) {
      st = { start: now, total: 0, errors: 0, firstSeen: now, quietUntil: 0, average: new Ewma() };
      this.table.set(subject, st);
    } else {
      const ended = windowsEnded(st.start, now, c.windowMs);
      if (ended > 0) {
        // Idle or thin windows say nothing about the ratio: they are skipped, not counted as 0.
        if (st.total >= c.minRequests) st.average.add(st.errors / st.total, this.keep);
        st.start += ended * c.windowMs;
        st.total = 0;
        st.errors = 0;
      }
    }
    st.total++;
    if (record.status >= 500) st.errors++;
    if (st.total < c.minRequests || now < st.quietUntil || now - st.firstSeen < this.warmupMs) return null;
    const ratio = st.errors / st.total;
    const baseline = st.average.value;
    // Capped at 1: a key that usually fails a lot still alerts when everything fails.
    const threshold = Math.min(1, Math.max(c.minRatio, c.factor * baseline));
    if (ratio < threshold) return null;
    st.quietUntil = now + this.cooldownMs;
    return { subject, observed: round(ratio), baseline: round(baseline), threshold: round(threshold), unit: '5xx ratio' };
  }
}
