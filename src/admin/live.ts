import type * as hdr from 'hdr-histogram-js';
import { labelOf, newAccumulator, type MergedMetrics } from '../observe/metrics-merge.js';
import { BLOCKED_CODES, FAMILY, IDENTITY_FAILURE_CODES, RATE_LIMITED_CODES } from './names.js';

/**
 * Per-second windows for the dashboard: each tick takes the merged cumulative
 * metrics, subtracts the previous tick's (counters and histograms alike) and
 * keeps the difference in a short ring. Only numbers are kept per window; the
 * histograms of the previous tick are the only ones held.
 */

export const RING_SECONDS = 300;
const TOP = 5;

/** Latency percentiles in milliseconds; null when nothing was recorded. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  count: number;
}

export interface LiveWindow {
  /** End of the window, epoch milliseconds. */
  time: number;
  seconds: number;
  requests: number;
  rps: number;
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number; other: number };
  rateLimited: number;
  blocked: number;
  identityFailures: number;
  latency: { total: Percentiles | null; gateway: Percentiles | null; upstream: Percentiles | null };
  topRoutes: [string, number][];
  topConsumers: [string, number][];
}

/** What the windows are differences of. */
export interface Cumulative {
  requests: number;
  status: LiveWindow['status'];
  byRoute: Map<string, number>;
  byConsumer: Map<string, number>;
  byCode: Map<string, number>;
  total: hdr.Histogram;
  gateway: hdr.Histogram;
  upstream: hdr.Histogram;
}

export function percentiles(h: hdr.Histogram | undefined): Percentiles | null {
  if (!h || h.totalCount === 0) return null;
  const ms = (p: number) => h.getValueAtPercentile(p) / 1000;
  return { p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), count: h.totalCount };
}

function statusClass(status: string): keyof LiveWindow['status'] {
  const c = status.charAt(0);
  return status.length === 3 && c >= '2' && c <= '5' ? (`${c}xx` as '2xx') : 'other';
}

function addTo(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Sums the merged families the dashboard shows; histograms of all routes or upstreams added together. */
export function cumulative(m: MergedMetrics): Cumulative {
  const c: Cumulative = {
    requests: 0,
    status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 },
    byRoute: new Map(),
    byConsumer: new Map(),
    byCode: new Map(),
    total: newAccumulator(),
    gateway: newAccumulator(),
    upstream: newAccumulator(),
  };
  const requests = m.counters.get(FAMILY.requests);
  if (requests) {
    for (const s of requests.series.values()) {
      c.requests += s.value;
      c.status[statusClass(labelOf(requests.labels, s.labels, 'status'))] += s.value;
      addTo(c.byRoute, labelOf(requests.labels, s.labels, 'route'), s.value);
    }
  }
  const consumers = m.counters.get(FAMILY.consumers);
  if (consumers) for (const s of consumers.series.values()) addTo(c.byConsumer, labelOf(consumers.labels, s.labels, 'consumer'), s.value);
  const answers = m.counters.get(FAMILY.answers);
  if (answers) for (const s of answers.series.values()) addTo(c.byCode, labelOf(answers.labels, s.labels, 'code'), s.value);
  for (const key of ['total', 'gateway', 'upstream'] as const) {
    const f = m.histograms.get(FAMILY[key]);
    if (f) for (const s of f.series.values()) c[key].add(s.value);
  }
  return c;
}

function sumCodes(byCode: Map<string, number>, codes: ReadonlySet<string>): number {
  let n = 0;
  for (const [code, v] of byCode) if (codes.has(code)) n += v;
  return n;
}

function top(now: Map<string, number>, before: Map<string, number> | undefined): [string, number][] {
  const d: [string, number][] = [];
  for (const [k, v] of now) {
    const n = v - (before?.get(k) ?? 0);
    if (n > 0) d.push([k, n]);
  }
  return d.sort((a, b) => b[1] - a[1]).slice(0, TOP);
}

/** `now` minus `before`; null when counts went backwards (cannot happen while retired totals are kept). */
function difference(now: hdr.Histogram, before: hdr.Histogram | undefined): Percentiles | null {
  if (!before) return percentiles(now);
  const d = newAccumulator();
  d.add(now);
  try {
    d.subtract(before);
  } catch {
    return null;
  }
  return percentiles(d);
}

export class LiveView {
  private previous: { at: number; c: Cumulative } | null = null;
  private readonly ring: LiveWindow[] = [];

  /** Adds the window since the previous tick and returns it (the first tick only sets the baseline). */
  tick(m: MergedMetrics, now = Date.now()): LiveWindow | null {
    const c = cumulative(m);
    const prev = this.previous;
    this.previous = { at: now, c };
    if (prev === null) return null;
    const seconds = Math.max(0.001, (now - prev.at) / 1000);
    const p = prev.c;
    const requests = Math.max(0, c.requests - p.requests);
    const status = { ...c.status };
    for (const k of Object.keys(status) as (keyof typeof status)[]) status[k] = Math.max(0, status[k] - p.status[k]);
    const codes = (set: ReadonlySet<string>) => Math.max(0, sumCodes(c.byCode, set) - sumCodes(p.byCode, set));
    const w: LiveWindow = {
      time: now,
      seconds,
      requests,
      rps: Math.round((requests / seconds) * 10) / 10,
      status,
      rateLimited: codes(RATE_LIMITED_CODES),
      blocked: codes(BLOCKED_CODES),
      identityFailures: codes(IDENTITY_FAILURE_CODES),
      latency: { total: difference(c.total, p.total), gateway: difference(c.gateway, p.gateway), upstream: difference(c.upstream, p.upstream) },
      topRoutes: top(c.byRoute, p.byRoute),
      topConsumers: top(c.byConsumer, p.byConsumer),
    };
    this.ring.push(w);
    if (this.ring.length > RING_SECONDS) this.ring.shift();
    return w;
  }

  /** Oldest first. */
  windows(): readonly LiveWindow[] {
    return this.ring;
  }

  /**
   * Sums of the newest windows that cover `seconds` (for rates in /stats). Windows are 1 s while a
   * dashboard watches and 10 s otherwise: count time, not windows.
   */
  recent(seconds: number): { seconds: number; requests: number; errors4xx: number; errors5xx: number; rateLimited: number; blocked: number } {
    const out = { seconds: 0, requests: 0, errors4xx: 0, errors5xx: 0, rateLimited: 0, blocked: 0 };
    for (let i = this.ring.length - 1; i >= 0 && out.seconds < seconds - 0.5; i--) {
      const w = this.ring[i]!;
      out.seconds += w.seconds;
      out.requests += w.requests;
      out.errors4xx += w.status['4xx'];
      out.errors5xx += w.status['5xx'];
      out.rateLimited += w.rateLimited;
      out.blocked += w.blocked;
    }
    return out;
  }
}
