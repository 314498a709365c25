import type { Logger } from '../log.js';
import type { Metrics } from '../../core/metrics.js';
import type { RequestObserver, RequestRecord } from '../request-record.js';
import { WebhookSender } from '../webhook.js';
import { resolveSecret } from '../../core/secrets.js';
import type { ToSupervisor } from '../../server/messages.js';
import { networkOf } from './network.js';
import { RegionTable } from './regions.js';
import type { Rule, Subjects } from './rule.js';
import { Burst } from './rules/burst.js';
import { ErrorRatio } from './rules/errors.js';
import { Latency } from './rules/latency.js';
import { Novelty } from './rules/novelty.js';
import { Spike } from './rules/spike.js';
import type { Sanctions } from './sanctions.js';
import { AlertSinks } from './sinks.js';
import type { AlertsSection, KeyBy, RuleConfig } from './types.js';

export interface DetectorDeps {
  log: Logger;
  metrics: Metrics;
  /** Epoch milliseconds (tests inject a clock). */
  now?: () => number;
  /** Where block/tighten actions go: the process's table, read by the chain's admission and the stages. */
  sanctions: Sanctions;
  /** To the supervisor; default: process.send when this is a cluster worker. */
  send?: ((message: ToSupervisor) => void) | null;
}

export interface AnomalyDetector extends RequestObserver {
  /**
   * A reloaded config: when the `alerts` section changed, its rules and
   * webhooks are rebuilt (baselines start over, with their warm-up); when it
   * did not, nothing happens. Sanctions in force stay until they expire.
   * Never throws: a section that cannot be built is logged and the old rules stay.
   */
  reconfigure(section: AlertsSection): void;
  /** Stops the webhooks (queued alerts are dropped); baselines go with the object. */
  close(): void;
  /** Keys held per rule, by rule name (bounded by maxKeys). */
  sizes(): Record<string, number>;
  readonly webhooks: readonly WebhookSender[];
}

/** One generation of the `alerts` section, compiled. */
interface Compiled {
  readonly key: string;
  readonly rules: readonly Rule[];
  readonly webhooks: readonly WebhookSender[];
  readonly sinks: AlertSinks;
  /** Which subjects the rules use: the others are never made. */
  readonly uses: Readonly<Record<KeyBy, boolean>>;
}

function compileRule(c: RuleConfig, section: AlertsSection, regions: RegionTable): Rule {
  switch (c.kind) {
    case 'spike':
      return new Spike(c, section);
    case 'errors':
      return new ErrorRatio(c, section);
    case 'latency':
      return new Latency(c, section);
    case 'auth-failures':
    case 'not-found':
      return new Burst(c, section);
    case 'new-network':
    case 'new-region':
      return new Novelty(c, section, regions);
  }
}

function defaultSend(): ((message: ToSupervisor) => void) | null {
  if (typeof process.send !== 'function') return null;
  return (m) => {
    if (process.connected) process.send!(m);
  };
}

/**
 * Anomaly detection over finished requests: every rule of the `alerts`
 * section looks at each record, keeping moving baselines per key; an alert
 * goes to the sinks (log, metrics, webhooks, supervisor) and may block or
 * tighten its subject for a while. Register the result as a RequestObserver
 * in each gateway process; close it when the section is replaced.
 */
export function createAnomalyDetector(section: AlertsSection, deps: DetectorDeps): AnomalyDetector {
  const now = deps.now ?? Date.now;
  const sanctions = deps.sanctions;
  const send = deps.send === undefined ? defaultSend() : deps.send;

  const compile = (s: AlertsSection): Compiled => {
    const regions = new RegionTable(s.regions);
    const webhooks = s.webhooks.map(
      (w) =>
        new WebhookSender(
          { url: w.url, secret: w.secret ? resolveSecret(w.secret) : undefined, attempts: w.attempts, backoffMs: w.backoffMs, timeoutMs: w.timeoutMs, maxQueued: w.maxQueued },
          deps.log,
        ),
    );
    return {
      key: JSON.stringify(s),
      rules: s.rules.map((c) => compileRule(c, s, regions)),
      webhooks,
      sinks: new AlertSinks({ log: deps.log, metrics: deps.metrics, webhooks, send, maxAlertsPerMinute: s.maxAlertsPerMinute }),
      uses: {
        consumer: s.rules.some((r) => r.kind === 'new-network' || r.kind === 'new-region' || ('per' in r && r.per === 'consumer')),
        route: s.rules.some((r) => 'per' in r && r.per === 'route'),
        network: s.rules.some((r) => !('per' in r) || r.per === 'network'),
      },
    };
  };

  let current = compile(section);
  let lastFailure = 0;
  // Filled per record and handed to every rule (observe is synchronous: one object is enough).
  const subjects: Subjects = { consumer: null, route: null, network: null, clientNetwork: '' };

  return {
    get webhooks() {
      return current.webhooks;
    },
    observe(record: RequestRecord): void {
      const { rules, sinks, uses } = current;
      if (rules.length === 0) return;
      try {
        const t = now();
        const network = uses.network ? networkOf(record.clientAddress) : '';
        subjects.clientNetwork = network;
        subjects.network = network === '' ? null : `network:${network}`;
        subjects.consumer = uses.consumer && record.consumer !== null ? `consumer:${record.consumer}` : null;
        subjects.route = uses.route && record.route !== '' ? `route:${record.route}` : null;
        for (const rule of rules) {
          const finding = rule.observe(record, t, subjects);
          if (finding === null) continue;
          const c = rule.config;
          const action = c.action && !finding.subject.startsWith('route:') ? c.action : null;
          if (action) sanctions.impose(finding.subject, action, c.name);
          sinks.emit({ kind: c.kind, rule: c.name, ...finding, action, time: t });
        }
      } catch (err) {
        // Observers must not throw into the exchange; one line a minute at most.
        const t = Date.now();
        if (t - lastFailure > 60_000) {
          lastFailure = t;
          deps.log.error({ err }, 'anomaly detection failed on a request record');
        }
      }
    },
    reconfigure(next: AlertsSection): void {
      if (JSON.stringify(next) === current.key) return;
      let fresh: Compiled;
      try {
        fresh = compile(next);
      } catch (err) {
        // (A webhook secret that vanished since load.) The rest of the reload stands; these rules stay.
        deps.log.error({ err }, 'anomaly rules not reloaded; the previous ones keep running');
        return;
      }
      for (const w of current.webhooks) w.close();
      current = fresh;
      deps.log.info({ rules: fresh.rules.length, webhooks: fresh.webhooks.length }, 'anomaly rules reloaded; baselines start over');
    },
    close(): void {
      for (const w of current.webhooks) w.close();
    },
    sizes(): Record<string, number> {
      return Object.fromEntries(current.rules.map((r) => [r.config.name, r.size]));
    },
  };
}
