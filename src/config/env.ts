import { availableParallelism } from 'node:os';
import { readGossipEnv, type GossipEnv } from '../ratelimit/gossip.js';

/**
 * Every tuning variable ztgate reads, in one place (the README lists the same table).
 * Read once at start-up; the hot path never touches process.env.
 */
export interface Tuning {
  /** Gateway processes started by the supervisor; each opens every listener (SO_REUSEPORT). */
  processes: number;
  /** Worker-pool threads per process for CPU-heavy stages (JWT signatures, scanning). */
  workers: number;
  /** Rate-limit bucket shards. */
  shards: number;
  logLevel: string;
  /** Config file; empty means the embedded demo. */
  configPath: string;
  /** How long SIGTERM waits for in-flight requests before closing them. */
  drainMs: number;
  /** Rate-limit gossip: ZTGATE_GOSSIP_PORT (base; process i binds base + i), _PEERS, _SECRET. */
  gossip: GossipEnv;
}

/** Base gossip port when several processes share limits and none is configured. */
export const DEFAULT_GOSSIP_PORT = 7946;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new Error(`${name}: expected a whole number from 1 to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

export function readTuning(env: NodeJS.ProcessEnv = process.env): Tuning {
  const cpus = availableParallelism();
  const logLevel = env.ZTGATE_LOG_LEVEL || 'info';
  if (!LOG_LEVELS.has(logLevel)) {
    throw new Error(`ZTGATE_LOG_LEVEL: expected one of ${[...LOG_LEVELS].join(', ')}, got "${logLevel}"`);
  }
  return {
    processes: positiveInt(env, 'ZTGATE_PROCESSES', cpus, 256),
    workers: positiveInt(env, 'ZTGATE_WORKERS', Math.max(1, Math.min(4, cpus - 1)), 256),
    shards: positiveInt(env, 'ZTGATE_SHARDS', 64, 65536),
    logLevel,
    configPath: env.ZTGATE_CONFIG || '',
    drainMs: positiveInt(env, 'ZTGATE_DRAIN_MS', 10_000, 3_600_000),
    gossip: readGossipEnv(env),
  };
}
