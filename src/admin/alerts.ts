import type { AlertMessage } from '../server/messages.js';

/** Alerts kept for the admin API and the dashboard (oldest dropped first). */
export const ALERT_RING_SIZE = 100;
const MAX_FIELD = 256;

/**
 * The last alerts raised by any gateway process. What arrives over IPC is
 * checked and cut to size: a detector's subject may come from client input.
 */
export class AlertRing {
  private readonly items: AlertMessage[] = [];

  /** Returns the stored alert, or null when `x` is not an alert. */
  push(x: unknown): AlertMessage | null {
    const alert = toAlert(x);
    if (alert === null) return null;
    this.items.push(alert);
    if (this.items.length > ALERT_RING_SIZE) this.items.shift();
    return alert;
  }

  /** Newest first. */
  list(): AlertMessage[] {
    return [...this.items].reverse();
  }
}

function text(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  return v.length > MAX_FIELD ? `${v.slice(0, MAX_FIELD)}…` : v;
}

function toAlert(x: unknown): AlertMessage | null {
  if (typeof x !== 'object' || x === null) return null;
  const m = x as Record<string, unknown>;
  const kind = text(m.kind);
  const subject = text(m.subject) ?? '';
  const detail = text(m.detail) ?? '';
  if (kind === null || kind === '') return null;
  const time = typeof m.time === 'number' && Number.isFinite(m.time) ? m.time : Date.now();
  return { kind, subject, detail, time };
}
