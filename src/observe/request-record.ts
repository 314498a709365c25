import type { TraceSpan } from '../core/trace.js';

/**
 * What one finished request leaves behind: the access log line, the metrics
 * and the anomaly baselines are all fed from this one record, made once when
 * the exchange ends (answered, failed or abandoned).
 */
export interface RequestRecord {
  readonly id: string;
  /** Wall-clock start, epoch milliseconds. */
  readonly time: number;
  readonly listener: string;
  /** Route name, or '' when the request was refused before a route matched. */
  readonly route: string;
  /** Upstream name, or '' when none was chosen. */
  readonly upstream: string;
  readonly method: string;
  /** Normalized path (never the query: it may hold credentials or personal data). */
  readonly path: string;
  /** Status sent to the client; 0 when the client went away first. */
  readonly status: number;
  /** The gateway's ZTG_* code when the gateway answered instead of the upstream. */
  readonly code: string | null;
  /** The verified consumer, or null for anonymous or refused requests. */
  readonly consumer: string | null;
  readonly clientAddress: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** From the first byte of the request head to the last byte of the answer. */
  readonly totalMs: number;
  /** From writing the request upstream to the last response byte; null when nothing was forwarded. */
  readonly upstreamMs: number | null;
  /** Time to the upstream's response head, from writing the request; null when none came. */
  readonly upstreamTtfbMs: number | null;
  /** Time to get a connection to the upstream (pool wait or connect); null when none was asked. */
  readonly upstreamConnectMs: number | null;
  /**
   * Milliseconds left of the exchange's deadline when the answer's head came
   * (or when it ended without one); absent when nothing was forwarded.
   */
  readonly budgetLeftMs?: number;
  /** Set when the answer was cut after some of it had left: why (a ZTG_* code). */
  readonly cut?: string;
  /** Milliseconds spent in each stage that ran, by stage name (request and response hooks added). */
  readonly stages: Readonly<Record<string, number>>;
  /** The gateway's span in the request's trace (W3C trace context). */
  readonly span: TraceSpan;
}

/** Anything that wants every finished request (metrics, anomaly detection). Must not throw or block. */
export interface RequestObserver {
  observe(record: RequestRecord): void;
}
