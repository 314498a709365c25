import pino from 'pino';
import type { Logger } from '../../src/observe/log.js';
import { Metrics } from '../../src/core/metrics.js';
import type { RequestRecord } from '../../src/observe/request-record.js';
import { validateConfig } from '../../src/config/load.js';
import { validateAlertsSection } from '../../src/observe/anomaly/validate.js';
import { createAnomalyDetector, type AnomalyDetector } from '../../src/observe/anomaly/detector.js';
import { Sanctions } from '../../src/observe/anomaly/sanctions.js';
import type { AlertsSection } from '../../src/observe/anomaly/types.js';
import type { ToSupervisor } from '../../src/server/messages.js';

/** A finished request as the lead's recorder makes it; only what detection reads matters. */
export function record(fields: Partial<Record<keyof RequestRecord, unknown>> = {}): RequestRecord {
  return {
    id: 'r',
    time: 0,
    listener: 'main',
    route: 'api',
    upstream: 'app',
    method: 'GET',
    path: '/x',
    status: 200,
    code: null,
    consumer: null,
    clientAddress: '192.0.2.10',
    bytesIn: 0,
    bytesOut: 0,
    totalMs: 20,
    upstreamMs: 18,
    upstreamTtfbMs: 10,
    upstreamConnectMs: 0,
    stages: {},
    ...fields,
  } as unknown as RequestRecord;
}

/** A pino logger whose lines land in an array (synchronously). */
export function captureLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) as unknown as Logger;
  return { log, lines };
}

/** The `alerts` section through the real schema (defaults) and cross-checks; throws on issues. */
export function alertsSection(alerts: Record<string, unknown>): AlertsSection {
  const cfg = validateConfig(
    {
      listeners: [{ name: 'main', host: '127.0.0.1', port: 0 }],
      upstreams: [{ name: 'app', targets: [{ url: 'http://127.0.0.1:9' }] }],
      routes: [{ name: 'api', match: { path: '/*' }, upstream: 'app', public: true }],
      alerts,
    },
    process.cwd(),
  );
  const issues: string[] = [];
  validateAlertsSection(cfg, issues);
  if (issues.length > 0) throw new Error(issues.join('\n'));
  return cfg.alerts;
}

/** A deterministic PRNG (mulberry32): the same "noise" on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

export interface Harness {
  detector: AnomalyDetector;
  clock: { now: number };
  log: Logger;
  lines: Record<string, unknown>[];
  metrics: Metrics;
  sanctions: Sanctions;
  ipc: ToSupervisor[];
  /** The warn lines of raised alerts. */
  alerts(): Record<string, unknown>[];
  /** Feeds `n` copies of a record spread evenly over the next `ms` milliseconds of the clock. */
  feed(n: number, ms: number, make: (i: number) => RequestRecord): void;
  counter(kind: string, rule: string): number;
}

export function harness(alerts: Record<string, unknown>): Harness {
  const clock = { now: T0 };
  const { log, lines } = captureLog();
  const metrics = new Metrics();
  const sanctions = new Sanctions(10_000, () => clock.now);
  const ipc: ToSupervisor[] = [];
  const detector = createAnomalyDetector(alertsSection(alerts), { log, metrics, now: () => clock.now, sanctions, send: (m) => void ipc.push(m) });
  return {
    detector,
    clock,
    log,
    lines,
    metrics,
    sanctions,
    ipc,
    alerts: () => lines.filter((l) => typeof l.alert === 'string'),
    feed(n, ms, make) {
      const start = clock.now;
      for (let i = 0; i < n; i++) {
        clock.now = start + Math.floor((i * ms) / n);
        detector.observe(make(i));
      }
      clock.now = start + ms;
    },
    counter(kind, rule) {
      const s = metrics.snapshot().counters.ztgate_alerts_total;
      return s?.series.find(([l]) => l[0] === kind && l[1] === rule)?.[1] ?? 0;
    },
  };
}
