import type { Logger } from '../log.js';
import type { Counter, Metrics } from '../../core/metrics.js';
import type { WebhookSender } from '../webhook.js';
import type { ToSupervisor } from '../../server/messages.js';
import type { Alert } from './types.js';

export interface SinkDeps {
  log: Logger;
  metrics: Metrics;
  webhooks: readonly WebhookSender[];
  /** To the supervisor (dashboard); null outside a cluster worker. */
  send: ((message: ToSupervisor) => void) | null;
  maxAlertsPerMinute: number;
}

/** One line for people: what, where, seen vs usual. */
export function describeAlert(a: Alert): string {
  const usual = a.baseline === null ? '' : ` vs baseline ${a.baseline}`;
  const line = a.threshold === null ? '' : ` (threshold ${a.threshold})`;
  const action = a.action ? `; ${a.action.type === 'block' ? 'blocked' : `limits divided by ${a.action.factor}`} for ${Math.round(a.action.durationMs / 1000)} s` : '';
  return `${a.kind} on ${a.subject}: ${a.observed} ${a.unit}${usual}${line}${action} [rule ${a.rule}]`;
}

/**
 * Where alerts go: every alert is counted in ztgate_alerts_total{kind,rule};
 * up to maxAlertsPerMinute a minute are also logged (one warn line each),
 * POSTed to the webhooks and sent to the supervisor. Beyond that they are
 * counted in ztgate_alerts_suppressed_total and summed up in one line, so a
 * storm of incidents cannot flood the log or the receivers.
 */
export class AlertSinks {
  private readonly raised: Counter;
  private readonly suppressed: Counter;
  private minuteStart = 0;
  private sentThisMinute = 0;
  private suppressedThisMinute = 0;

  constructor(private readonly deps: SinkDeps) {
    this.raised = deps.metrics.counter('ztgate_alerts_total', 'Anomaly alerts raised', ['kind', 'rule']);
    this.suppressed = deps.metrics.counter('ztgate_alerts_suppressed_total', 'Anomaly alerts over maxAlertsPerMinute: counted, not sent', ['kind', 'rule']);
  }

  emit(alert: Alert): void {
    this.raised.inc([alert.kind, alert.rule]);
    if (alert.time - this.minuteStart >= 60_000) {
      if (this.suppressedThisMinute > 0) {
        this.deps.log.warn({ suppressed: this.suppressedThisMinute }, `${this.suppressedThisMinute} anomaly alerts over maxAlertsPerMinute were counted, not sent`);
      }
      this.minuteStart = alert.time;
      this.sentThisMinute = 0;
      this.suppressedThisMinute = 0;
    }
    if (this.sentThisMinute >= this.deps.maxAlertsPerMinute) {
      this.suppressedThisMinute++;
      this.suppressed.inc([alert.kind, alert.rule]);
      return;
    }
    this.sentThisMinute++;
    const detail = describeAlert(alert);
    const { kind, rule, subject, observed, baseline, threshold, unit, action } = alert;
    this.deps.log.warn({ alert: kind, rule, subject, observed, baseline, threshold, unit, action: action?.type ?? null }, `anomaly alert: ${detail}`);
    const event = { type: 'anomaly', kind, rule, subject, observed, baseline, threshold, unit, action, detail, time: new Date(alert.time).toISOString() };
    for (const w of this.deps.webhooks) w.send(event);
    if (this.deps.send) {
      try {
        this.deps.send({ type: 'alert', kind, subject, detail, time: alert.time });
      } catch {
        /* the supervisor is going away: the log line stands */
      }
    }
  }
}
