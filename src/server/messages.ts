import type { GatewayConfig } from '../config/types.js';

/** Supervisor → gateway process. */
export type ToGateway =
  | { type: 'start'; config: GatewayConfig }
  | { type: 'reload'; config: GatewayConfig; generation: number }
  | { type: 'drain' };

/** Gateway process → supervisor. */
export type ToSupervisor =
  /** Sent once the process listens for messages (cluster's 'online' comes earlier, while ESM still loads). */
  | { type: 'ready' }
  | { type: 'listening'; urls: { name: string; url: string }[] }
  | { type: 'reloaded'; generation: number; ok: boolean; error?: string; listenersChanged?: boolean }
  | { type: 'fatal'; message: string };
