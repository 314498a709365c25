import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { workerExecArgv } from './exec-argv.js';
import { newHistogram } from '../core/metrics.js';

export interface PoolOptions {
  filename: string;
  minThreads: number;
  maxThreads: number;
  workerData?: unknown;
}

/** What a pool did since the previous `window()`: read by the metrics snapshot. */
export interface PoolWindow {
  queued: number;
  threads: number;
  /** Share of the threads' time with a task handed to them (0..1). */
  utilization: number;
  /** Task time (queue wait, run, hand-over), ms; null when no task ended in the window. */
  taskMs: { p50: number; p99: number; max: number } | null;
}

/**
 * A piscina pool that keeps its own, cheap statistics. piscina's timing
 * (`recordTiming`) summarizes Node histograms with 15 percentiles per read:
 * reading wait time and utilization of three pools blocked the event loop for
 * 1.4-16 ms at every metrics snapshot (native-bench/NOTES.md). Here a task is
 * timed on the main thread into an hdr histogram (three percentiles per read),
 * and the threads' busy time is integrated from the number of tasks out.
 */
export class WorkerPool<Task = unknown, Result = unknown> {
  readonly #piscina: Piscina<Task, Result>;
  readonly #capacity: number;
  readonly #taskUs = newHistogram();
  #out = 0;
  #since = performance.now();
  #changed = this.#since;
  #busyMs = 0;

  constructor(options: PoolOptions) {
    this.#capacity = options.maxThreads;
    this.#piscina = new Piscina({ ...options, idleTimeout: 60_000, execArgv: workerExecArgv(), recordTiming: false });
  }

  run(task: Task, options?: { signal?: AbortSignal }): Promise<Result> {
    const start = this.#advance();
    this.#out++;
    const done = (): void => {
      const now = this.#advance();
      this.#out--;
      const us = Math.round((now - start) * 1000);
      this.#taskUs.recordValue(us < 1 ? 1 : us > 600_000_000 ? 600_000_000 : us);
    };
    const pending = this.#piscina.run(task, options);
    pending.then(done, done);
    return pending;
  }

  /** Statistics since the previous call (then reset). */
  window(): PoolWindow {
    const now = this.#advance();
    const elapsed = now - this.#since;
    const h = this.#taskUs;
    const taskMs = h.totalCount === 0 ? null : { p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, max: h.maxValue / 1000 };
    const utilization = elapsed > 0 ? Math.min(1, this.#busyMs / (elapsed * this.#capacity)) : 0;
    h.reset();
    this.#busyMs = 0;
    this.#since = now;
    return { queued: this.#piscina.queueSize, threads: this.#piscina.threads.length, utilization, taskMs };
  }

  destroy(): Promise<void> {
    return this.#piscina.destroy();
  }

  /** Adds the busy time since the last change of the number of tasks out. */
  #advance(): number {
    const now = performance.now();
    this.#busyMs += Math.min(this.#out, this.#capacity) * (now - this.#changed);
    this.#changed = now;
    return now;
  }
}

const pools = new Map<string, WorkerPool>();

/** Every pool of the process by a short name, for metrics. */
const watched = new Map<string, WorkerPool>();

export function watchPool(name: string, pool: WorkerPool): void {
  watched.set(name, pool);
}

export function unwatchPool(name: string, pool: WorkerPool): void {
  if (watched.get(name) === pool) watched.delete(name);
}

export function watchedPools(): ReadonlyMap<string, WorkerPool> {
  return watched;
}

/**
 * One pool per worker file per process, started on first use by a route that
 * needs it and kept across config reloads. Null when the compiled worker is
 * not there (running from sources, as unit tests do): callers scan inline.
 */
export function workerPool<Task, Result>(worker: URL, workers: number): WorkerPool<Task, Result> | null {
  const existing = pools.get(worker.href);
  if (existing) return existing as WorkerPool<Task, Result>;
  if (!existsSync(fileURLToPath(worker))) return null;
  const pool = new WorkerPool<Task, Result>({ filename: worker.href, minThreads: 1, maxThreads: workers });
  pools.set(worker.href, pool as WorkerPool);
  watchPool(fileURLToPath(worker).split('/').slice(-2).join('/'), pool as WorkerPool);
  return pool;
}
