import { LRUCache } from 'lru-cache';
import type { RequestRecord } from '../../request-record.js';
import { Errors } from '../../../errors.js';
import { round, windowsEnded, type Finding, type Rule, type Subjects } from '../rule.js';
import type { AlertsSection, BurstRule } from '../types.js';

interface State {
  start: number;
  previous: number;
  current: number;
  quietUntil: number;
}

const IDENTITY_FAILURES: ReadonlySet<string> = new Set([Errors.UNAUTHENTICATED.code, Errors.FORBIDDEN.code]);

/** Which requests a burst rule counts. */
const matchers: Record<BurstRule['kind'], (r: RequestRecord) => boolean> = {
  // Credential stuffing: refused credentials, whatever the method (401) or authorization (403).
  'auth-failures': (r) => r.code !== null && IDENTITY_FAILURES.has(r.code),
  // Scanning: unknown routes and the upstream's own 404s alike.
  'not-found': (r) => r.status === 404,
};

/**
 * Bursts per client network (/24, /48): matching requests counted over a
 * sliding window (the previous fixed window weighted by how much of it still
 * overlaps, plus the present one), alerting at a threshold. Only matching
 * requests touch the table, so ordinary traffic costs one test.
 */
export class Burst implements Rule {
  private readonly table: LRUCache<string, State>;
  private readonly matches: (r: RequestRecord) => boolean;
  private readonly cooldownMs: number;

  constructor(
    readonly config: BurstRule,
    section: AlertsSection,
  ) {
    this.table = new LRUCache({ max: section.maxKeys });
    this.matches = matchers[config.kind];
    this.cooldownMs = config.cooldownMs ?? section.cooldownMs;
  }

  get size(): number {
    return this.table.size;
  }

  observe(record: RequestRecord, now: number, subjects: Subjects): Finding | null {
    const subject = subjects.network;
    if (subject === null || !this.matches(record)) return null;
    const w = this.config.windowMs;
    let st = this.table.get(subject);
    if (st === undefined) {
      st = { start: now, previous: 0, current: 0, quietUntil: 0 };
      this.table.set(subject, st);
    } else {
      const ended = windowsEnded(st.start, now, w);
      if (ended > 0) {
        st.previous = ended === 1 ? st.current : 0;
        st.current = 0;
        st.start += ended * w;
      }
    }
    st.current++;
    if (now < st.quietUntil) return null;
    const estimate = st.previous * (1 - (now - st.start) / w) + st.current;
    if (estimate < this.config.threshold) return null;
    st.quietUntil = now + this.cooldownMs;
    return { subject, observed: round(estimate), baseline: null, threshold: this.config.threshold, unit: `per ${w / 1000} s` };
  }
}
