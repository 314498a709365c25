import { LRUCache } from 'lru-cache';
import type { RequestRecord } from '../../request-record.js';
import { decayFor, Ewma } from '../ewma.js';
import { round, subjectOf, windowsEnded, type Finding, type Rule, type Subjects } from '../rule.js';
import type { AlertsSection, SpikeRule } from '../types.js';

interface State {
  start: number;
  count: number;
  firstSeen: number;
  quietUntil: number;
  /** Requests per window, idle windows included. */
  readonly average: Ewma;
}

/**
 * Sudden spikes: the requests of the present window (per consumer, route or
 * network) against the moving average of past windows, by a factor, above a
 * minimum rate. Checked on every request, so a spike is reported while it
 * happens, not when its window ends.
 */
export class Spike implements Rule {
  private readonly table: LRUCache<string, State>;
  private readonly keep: number;
  private readonly minCount: number;
  private readonly perSecond: number;
  private readonly warmupMs: number;
  private readonly cooldownMs: number;

  constructor(
    readonly config: SpikeRule,
    section: AlertsSection,
  ) {
    this.table = new LRUCache({ max: section.maxKeys });
    this.keep = decayFor(config.windowMs, config.halfLifeMs ?? section.halfLifeMs);
    this.perSecond = 1000 / config.windowMs;
    this.minCount = config.minRate / this.perSecond;
    this.warmupMs = config.warmupMs ?? section.warmupMs;
    this.cooldownMs = config.cooldownMs ?? section.cooldownMs;
  }

  get size(): number {
    return this.table.size;
  }

  observe(_record: RequestRecord, now: number, subjects: Subjects): Finding | null {
    const subject = subjectOf(this.config.per, subjects);
    if (subject === null) return null;
    let st = this.table.get(subject);
    if (st === undefined) {
      st = { start: now, count: 0, firstSeen: now, quietUntil: 0, average: new Ewma() };
      this.table.set(subject, st);
    } else {
      const ended = windowsEnded(st.start, now, this.config.windowMs);
      if (ended > 0) {
        st.average.add(st.count, this.keep);
        st.average.addZeros(ended - 1, this.keep);
        st.start += ended * this.config.windowMs;
        st.count = 0;
      }
    }
    st.count++;
    if (now < st.quietUntil || now - st.firstSeen < this.warmupMs) return null;
    const baseline = st.average.value;
    const threshold = Math.max(this.minCount, this.config.factor * baseline);
    if (st.count < threshold) return null;
    st.quietUntil = now + this.cooldownMs;
    const rate = (n: number) => round(n * this.perSecond);
    return { subject, observed: rate(st.count), baseline: rate(baseline), threshold: rate(threshold), unit: 'req/s' };
  }
}
