import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { workerExecArgv } from './exec-argv.js';

const pools = new Map<string, Piscina>();

/** Every pool of the process by a short name, for metrics (queue depth, wait, utilization). */
const watched = new Map<string, Piscina>();

export function watchPool(name: string, pool: Piscina): void {
  watched.set(name, pool);
}

export function unwatchPool(name: string, pool: Piscina): void {
  if (watched.get(name) === pool) watched.delete(name);
}

export function watchedPools(): ReadonlyMap<string, Piscina> {
  return watched;
}

/**
 * One piscina pool per worker file per process, started on first use by a route
 * that needs it and kept across config reloads. Null when the compiled worker is
 * not there (running from sources, as unit tests do): callers scan inline.
 */
export function workerPool(worker: URL, workers: number): Piscina | null {
  const existing = pools.get(worker.href);
  if (existing) return existing;
  if (!existsSync(fileURLToPath(worker))) return null;
  const pool = new Piscina({ filename: worker.href, minThreads: 1, maxThreads: workers, idleTimeout: 60_000, execArgv: workerExecArgv() });
  pools.set(worker.href, pool);
  watchPool(fileURLToPath(worker).split('/').slice(-2).join('/'), pool);
  return pool;
}
