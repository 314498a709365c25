import type { GatewayConfig } from '../config/types.js';
import type { MetricsSnapshot } from '../core/metrics.js';

/** Supervisor → gateway process. */
export type ToGateway =
  | { type: 'start'; config: GatewayConfig }
  | { type: 'reload'; config: GatewayConfig; generation: number }
  | { type: 'drain' }
  /** Asks for a metrics snapshot (every second, and when the admin API needs fresh numbers). */
  | { type: 'collect'; seq: number };

/**
 * An alert raised by anomaly detection in a gateway process. The supervisor
 * keeps the last ones in a ring for the admin API and the dashboard. Strings
 * are cut to 256 characters there; `time` is epoch milliseconds.
 */
export interface AlertMessage {
  kind: string;
  subject: string;
  detail: string;
  time: number;
}

/** Gateway process → supervisor. */
export type ToSupervisor =
  /** Sent once the process listens for messages (cluster's 'online' comes earlier, while ESM still loads). */
  | { type: 'ready' }
  | { type: 'listening'; urls: { name: string; url: string }[] }
  | { type: 'reloaded'; generation: number; ok: boolean; error?: string; listenersChanged?: boolean }
  | { type: 'fatal'; message: string }
  /** The process's cumulative metrics, answering `collect` with the same `seq`. */
  | { type: 'metrics'; seq: number; snapshot: MetricsSnapshot }
  | ({ type: 'alert' } & AlertMessage);
