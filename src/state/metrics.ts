import type { Counter, Gauge, Metrics } from '../core/metrics.js';

/** The state store's own series (registered once per process; they survive reloads). */
export class StateMetrics {
  /** Quota checks by outcome: ok, timeout, error, unavailable (not sent: store down, wrong version, or skipped after failures). */
  readonly calls: Counter;
  /** Checks decided without the store, by the limit's onStoreFailure (local, allow, deny). */
  readonly fallbacks: Counter;
  readonly up: Gauge;
  readonly outages: Counter;
  /** Fallback hits charged to the store when it answered again. */
  readonly replayed: Counter;
  /** Answers that came after their check's timeout (their fallback charge is taken back). */
  readonly lateAnswers: Counter;
  /** Units given back to the store: charged by a late answer for a request the fallback refused. */
  readonly refunded: Counter;

  constructor(metrics: Metrics) {
    this.calls = metrics.counter('ztgate_state_store_calls_total', 'Quota checks sent to the state store, by outcome (unavailable: answered at once without the store).', ['outcome']);
    this.fallbacks = metrics.counter('ztgate_state_store_fallbacks_total', 'Quota checks decided without the state store, by the limit\'s onStoreFailure.', ['policy']);
    this.up = metrics.gauge('ztgate_state_store_up', '1 while the state store answers quota checks.');
    this.outages = metrics.counter('ztgate_state_store_outages_total', 'Times the state store became unavailable.');
    this.replayed = metrics.counter('ztgate_state_store_replayed_units_total', 'Units admitted on the fallback and charged to the state store when it answered again.');
    this.refunded = metrics.counter('ztgate_state_store_refunded_units_total', 'Units given back to the state store: charged by an answer that came too late, for a request the fallback refused.');
    this.lateAnswers = metrics.counter('ztgate_state_store_late_answers_total', 'State store answers that came after their check had timed out.');
  }
}
