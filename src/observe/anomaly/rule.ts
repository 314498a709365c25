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
  /** `subjects` are the record's, made once for every rule (see Subjects). */
  observe(record: RequestRecord, now: number, subjects: Subjects): Finding | null;
  /** Keys held now (for tests and stats). */
  readonly size: number;
}

/**
 * What a record counts for, made once per record for all the rules (one
 * string each, not one per rule); null when it has none. Only the kinds some
 * configured rule uses are filled in.
 */
export interface Subjects {
  /** `consumer:alice` */
  consumer: string | null;
  /** `route:orders` */
  route: string | null;
  /** `network:203.0.113.0/24` */
  network: string | null;
  /** The bare client network (`203.0.113.0/24`), '' when the address is none. */
  clientNetwork: string;
}

export function subjectOf(per: KeyBy, subjects: Subjects): string | null {
  return subjects[per];
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
