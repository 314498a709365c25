import type { RequestRecord } from '../request-record.js';
import type { KeyBy, RuleConfig } from './types.js';

/** What a rule reports when a subject crosses its line (the detector turns it into an alert). */
export interface Finding {
  subject: string;
  observed: number | string;
  baseline: number | string | null;
  threshold: number | null;
  unit: string;
}

/**
 * One configured rule: it keeps its own bounded table of per-key state and
 * its own cooldown per key, and looks at every finished request once.
 */
export interface Rule {
  readonly config: RuleConfig;
  /** `network` is the record's client network (network.ts), '' when not an address or not needed. */
  observe(record: RequestRecord, now: number, network: string): Finding | null;
  /** Keys held now (for tests and stats). */
  readonly size: number;
}

/** The subject a record counts for, or null when it has none (no consumer, no route, no address). */
export function subjectOf(per: KeyBy, record: RequestRecord, network: string): string | null {
  switch (per) {
    case 'consumer':
      return record.consumer === null ? null : `consumer:${record.consumer}`;
    case 'route':
      return record.route === '' ? null : `route:${record.route}`;
    case 'network':
      return network === '' ? null : `network:${network}`;
  }
}

/** Rounded for people: 3 significant digits at most. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(3)) : x;
}

/**
 * Fixed windows per key, rolled lazily when the key is next seen: returns how
 * many windows ended since `start` (0: still the same window).
 */
export function windowsEnded(start: number, now: number, windowMs: number): number {
  return now < start + windowMs ? 0 : Math.floor((now - start) / windowMs);
}
