import { labelOf, type MergedMetrics } from '../observe/metrics-merge.js';
import type { AlertMessage } from '../server/messages.js';
import { cumulative, percentiles, type LiveView } from './live.js';
import { BLOCKED_CODES, FAMILY, IDENTITY_FAILURE_CODES, RATE_LIMITED_CODES } from './names.js';

/** What the supervisor knows of its processes (also exported as gauges). */
export interface ProcessState {
  configured: number;
  up: number;
  listening: number;
  restarts: number;
  configGeneration: number;
  startedAt: number;
}

export interface StatsInput {
  merged: MergedMetrics;
  live: LiveView;
  processes: ProcessState;
  alerts: AlertMessage[];
  /** Route name → upstream name, from the running config. */
  routeUpstreams: ReadonlyMap<string, string>;
}

const RATE_SECONDS = 10;
const TOP = 10;

function sumCodes(byCode: Map<string, number>, codes: ReadonlySet<string>): number {
  let n = 0;
  for (const [code, v] of byCode) if (codes.has(code)) n += v;
  return n;
}

function perSecond(n: number, seconds: number): number {
  return seconds <= 0 ? 0 : Math.round((n / seconds) * 100) / 100;
}

function topOf(map: Map<string, number>): { name: string; requests: number }[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([name, requests]) => ({ name, requests }));
}

/**
 * The JSON of GET /stats: totals since start (processes merged, exited ones
 * included), rates over the last 10 seconds, per route the gateway's own time
 * beside the total, per upstream the upstream's time, top routes and
 * consumers, process state and recent alerts. Latencies are milliseconds.
 */
export function buildStats(input: StatsInput): Record<string, unknown> {
  const { merged: m } = input;
  const c = cumulative(m);
  const recent = input.live.recent(RATE_SECONDS);

  const routes = new Map<string, { requests: number; status: Record<string, number> }>();
  const requests = m.counters.get(FAMILY.requests);
  if (requests) {
    for (const s of requests.series.values()) {
      const name = labelOf(requests.labels, s.labels, 'route');
      const status = labelOf(requests.labels, s.labels, 'status');
      let r = routes.get(name);
      if (!r) routes.set(name, (r = { requests: 0, status: {} }));
      r.requests += s.value;
      r.status[status] = (r.status[status] ?? 0) + s.value;
    }
  }
  const histogramOf = (family: string, label: string, value: string) => {
    const f = m.histograms.get(family);
    if (!f) return undefined;
    for (const s of f.series.values()) if (labelOf(f.labels, s.labels, label) === value) return s.value;
    return undefined;
  };

  const upstreamNames = new Set<string>(input.routeUpstreams.values());
  for (const family of [FAMILY.upstream]) {
    const f = m.histograms.get(family);
    if (f) for (const s of f.series.values()) upstreamNames.add(labelOf(f.labels, s.labels, 'upstream'));
  }
  const health = new Map<string, Record<string, boolean>>();
  const healthy = m.gauges.get(FAMILY.upstreamHealthy);
  if (healthy) {
    for (const s of healthy.series.values()) {
      const u = labelOf(healthy.labels, s.labels, 'upstream');
      const target = labelOf(healthy.labels, s.labels, 'target') || u;
      const h = health.get(u) ?? {};
      // Healthy only if every process that reports the target finds it healthy.
      h[target] = (h[target] ?? true) && s.value > 0;
      health.set(u, h);
    }
  }

  const counters: Record<string, number> = {};
  for (const [name, f] of m.counters) {
    let n = 0;
    for (const s of f.series.values()) n += s.value;
    counters[name] = n;
  }

  return {
    time: new Date().toISOString(),
    uptimeSec: Math.round((Date.now() - input.processes.startedAt) / 1000),
    processes: input.processes,
    totals: {
      requests: c.requests,
      status: c.status,
      rateLimited: sumCodes(c.byCode, RATE_LIMITED_CODES),
      blocked: sumCodes(c.byCode, BLOCKED_CODES),
      identityFailures: sumCodes(c.byCode, IDENTITY_FAILURE_CODES),
      gatewayAnswers: Object.fromEntries(c.byCode),
      latency: { total: percentiles(c.total), gateway: percentiles(c.gateway), upstream: percentiles(c.upstream) },
    },
    rates: {
      seconds: Math.round(recent.seconds * 10) / 10,
      requestsPerSec: perSecond(recent.requests, recent.seconds),
      errors4xxPerSec: perSecond(recent.errors4xx, recent.seconds),
      errors5xxPerSec: perSecond(recent.errors5xx, recent.seconds),
      rateLimitedPerSec: perSecond(recent.rateLimited, recent.seconds),
      blockedPerSec: perSecond(recent.blocked, recent.seconds),
    },
    routes: [...routes]
      .sort((a, b) => b[1].requests - a[1].requests)
      .map(([route, r]) => ({
        route,
        upstream: input.routeUpstreams.get(route) ?? null,
        requests: r.requests,
        status: r.status,
        latency: { total: percentiles(histogramOf(FAMILY.total, 'route', route)), gateway: percentiles(histogramOf(FAMILY.gateway, 'route', route)) },
      })),
    upstreams: [...upstreamNames].sort().map((upstream) => ({
      upstream,
      latency: percentiles(histogramOf(FAMILY.upstream, 'upstream', upstream)),
      targets: health.get(upstream) ?? null,
    })),
    top: { routes: topOf(c.byRoute), consumers: topOf(c.byConsumer) },
    counters,
    alerts: input.alerts.slice(0, 20),
  };
}
