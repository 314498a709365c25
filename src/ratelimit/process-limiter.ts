import { DEFAULT_GOSSIP_PORT, type Tuning } from '../config/env.js';
import type { Logger } from '../observe/log.js';
import { Gossip, type GossipCounters, type GossipLog, type GossipOptions } from './gossip.js';
import { DistributedLimiter } from './limiter.js';

export interface ProcessLimiter {
  limiter: DistributedLimiter;
  /** The gossip channel's totals, or null when the limits are local. */
  gossipCounters(): GossipCounters | null;
  /**
   * Joins the gossip channel, once, when there is anyone to share limits with (other processes
   * or peer hosts): called for a config that has rate limits, so a gateway without any binds no
   * UDP port and warns of no missing secret.
   */
  share(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether any route of the config limits rates (the only users of the shared limiter). */
export function hasRateLimits(config: { routes: readonly { stages?: readonly { type: string }[] }[] }): boolean {
  return config.routes.some((r) => (r.stages ?? []).some((s) => s.type === 'rate-limit'));
}

/**
 * The rate limiter of one gateway process. Alone (one process, no peers) it
 * is local; otherwise `share()` joins the gossip channel as member `index`, so
 * the processes of this host and the peer hosts share every limit.
 */
export function startProcessLimiter(tuning: Tuning, index: number, log: Logger): ProcessLimiter {
  const env = tuning.gossip;
  let gossip: Gossip | null = null;
  let joining: Promise<void> | null = null;
  const limiter = new DistributedLimiter({ shards: tuning.shards, log });
  limiter.start();
  const join = async (): Promise<void> => {
    const base = { ...env, port: env.port || DEFAULT_GOSSIP_PORT };
    const g = new Gossip(gossipOptionsFor(base, index, tuning.processes, log));
    try {
      const bound = await g.start();
      log.info({ gossip: bound, authenticated: g.authenticated }, g.authenticated ? 'rate-limit gossip on' : 'rate-limit gossip on loopback only (no ZTGATE_GOSSIP_SECRET)');
      gossip = g;
      limiter.attachGossip(g);
    } catch (err) {
      log.error({ err, port: base.port + index }, 'rate-limit gossip cannot start: limits are per process until it can');
    }
  };
  return {
    limiter,
    gossipCounters: () => gossip?.counters ?? null,
    share() {
      if (tuning.processes <= 1 && env.seeds.length === 0) return Promise.resolve();
      return (joining ??= join());
    },
    async stop() {
      limiter.stop();
      await joining;
      await gossip?.stop();
    },
  };
}

/** Gossip settings (read from the environment by config/env.ts). */
export interface GossipEnv {
  /** Base port: process `index` of this host binds port + index. 0 or unset: gossip disabled. */
  port: number;
  seeds: string[];
  secret: string | null;
}

/**
 * Options for process `index` of `processes` on this host: it binds
 * `port + index`, and seeds with its siblings on loopback as well as the
 * configured peers.
 */
export function gossipOptionsFor(env: GossipEnv, index: number, processes: number, log?: GossipLog): GossipOptions {
  const siblings: string[] = [];
  for (let i = 0; i < processes; i++) if (i !== index) siblings.push(`127.0.0.1:${env.port + i}`);
  return { port: env.port + index, seeds: [...siblings, ...env.seeds], secret: env.secret, log };
}
