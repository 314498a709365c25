import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { workerExecArgv } from './exec-argv.js';

const pools = new Map<string, Piscina>();

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
  return pool;
}
