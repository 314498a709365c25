import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseAddr } from '../core/host-port.js';

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
  /** This gateway process's slot among ZTGATE_PROCESSES (ZTGATE_PROCESS_INDEX, set by the supervisor; 0 elsewhere). */
  processIndex: number;
  admin: AdminEnv;
  /** The embedded demo's ports: ZTGATE_DEMO_PORT (gateway), ZTGATE_DEMO_UPSTREAM_PORT. */
  demo: { gateway: number; upstream: number };
}

/**
 * The admin listener (supervisor process): ZTGATE_ADMIN_PORT (0: off),
 * ZTGATE_ADMIN_ADDR, and the bearer token inline or from a file. Without a
 * token the listener stays off (except in the demo, which makes one).
 */
export interface AdminEnv {
  port: number;
  addr: string;
  /** ZTGATE_ADMIN_TOKEN; null when unset. */
  token: string | null;
  /** ZTGATE_ADMIN_TOKEN_FILE; read by src/admin/token.ts in the supervisor only. */
  tokenFile: string | null;
}

export const DEFAULT_ADMIN_PORT = 9901;
/** A shorter bearer token is refused at start-up: it could be guessed. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Base gossip port when several processes share limits and none is configured. */
export const DEFAULT_GOSSIP_PORT = 7946;

/** Gossip settings from the environment (ZTGATE_GOSSIP_PORT, ZTGATE_GOSSIP_PEERS, ZTGATE_GOSSIP_SECRET); the shape ratelimit/gossip.ts takes. */
export interface GossipEnv {
  /** Base port: process `index` of this host binds port + index. 0 or unset: gossip disabled. */
  port: number;
  seeds: string[];
  secret: string | null;
}

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
    configPath: env.ZTGATE_CONFIG ? callerPath(env.ZTGATE_CONFIG, env) : '',
    drainMs: positiveInt(env, 'ZTGATE_DRAIN_MS', 10_000, 3_600_000),
    gossip: readGossipEnv(env),
    processIndex: Number(env.ZTGATE_PROCESS_INDEX ?? 0),
    demo: { gateway: Number(env.ZTGATE_DEMO_PORT || 8080), upstream: Number(env.ZTGATE_DEMO_UPSTREAM_PORT || 8081) },
    admin: readAdminEnv(env),
  };
}

function readAdminEnv(env: NodeJS.ProcessEnv): AdminEnv {
  const rawPort = env.ZTGATE_ADMIN_PORT;
  let port = DEFAULT_ADMIN_PORT;
  if (rawPort !== undefined && rawPort !== '') {
    if (!/^[0-9]{1,5}$/.test(rawPort) || Number(rawPort) > 65535) {
      throw new Error(`ZTGATE_ADMIN_PORT: expected a port from 0 (off) to 65535, got "${rawPort}"`);
    }
    port = Number(rawPort);
  }
  const addr = env.ZTGATE_ADMIN_ADDR || '127.0.0.1';
  if (isIP(addr) === 0) throw new Error(`ZTGATE_ADMIN_ADDR: expected an IP address, got "${addr}"`);
  const token = env.ZTGATE_ADMIN_TOKEN || null;
  const tokenFile = env.ZTGATE_ADMIN_TOKEN_FILE || null;
  if (token !== null && tokenFile !== null) throw new Error('ZTGATE_ADMIN_TOKEN and ZTGATE_ADMIN_TOKEN_FILE: set one, not both');
  if (token !== null) checkAdminToken(token, 'ZTGATE_ADMIN_TOKEN');
  return { port, addr, token, tokenFile };
}

/** Throws unless `token` is long enough and safe in a header (visible ASCII, no spaces). */
export function checkAdminToken(token: string, source: string): void {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH || token.length > 512 || !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error(`${source}: the admin token must be ${MIN_ADMIN_TOKEN_LENGTH} to 512 visible ASCII characters without spaces`);
  }
}

export function readGossipEnv(env: NodeJS.ProcessEnv = process.env): GossipEnv {
  const raw = env.ZTGATE_GOSSIP_PORT ?? '';
  let port = 0;
  if (raw !== '') {
    if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
      throw new Error(`ZTGATE_GOSSIP_PORT: expected a port from 1 to 65535, got "${raw}"`);
    }
    port = Number(raw);
  }
  const seeds = (env.ZTGATE_GOSSIP_PEERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of seeds) if (!parseAddr(s)) throw new Error(`ZTGATE_GOSSIP_PEERS: "${s}" is not host:port (an IP address and a port)`);
  const secret = env.ZTGATE_GOSSIP_SECRET || null;
  if (secret !== null && secret.length < 16) throw new Error('ZTGATE_GOSSIP_SECRET: use at least 16 characters');
  return { port, seeds, secret };
}

/**
 * A path the user typed, made absolute against the directory they typed it
 * in. Under `npm start` the process runs in the package's root and npm keeps
 * the caller's directory in INIT_CWD.
 */
export function callerPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INIT_CWD || process.cwd(), path);
}
