import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { workerExecArgv } from './exec-argv.js';
import { newHistogram } from '../core/metrics.js';
import { ThrottledWarn, type WarnSink } from '../core/throttled-warn.js';

export interface PoolOptions {
  filename: string;
  minThreads: number;
  maxThreads: number;
  workerData?: unknown;
  /** Tasks that may wait for a thread; beyond, run() refuses at once (PoolOverloadedError). Default: unbounded. */
  maxQueued?: number;
  /** Where the pool's once-a-second overload line goes. */
  log?: WarnSink;
  /** Its name in that line and in metrics. */
  name?: string;
}

/**
 * The pool is full: the task was not queued (bounded queue, or it would have
 * waited past its deadline). Overload, not a failure: callers answer 503.
 */
export class PoolOverloadedError extends Error {
  readonly code = 'ZTG_OVERLOADED';
  constructor(reason: string) {
    super(reason);
    this.name = 'PoolOverloadedError';
  }
}

/** What a pool did since the previous `window()`: read by the metrics snapshot. */
export interface PoolWindow {
  /** Most tasks waiting for a thread at once in the window (the backlog a snapshot alone misses). */
  queued: number;
  /** Tasks refused as overload, since the pool started. */
  shed: number;
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
  readonly #maxQueued: number;
  #queuedPeak = 0;
  #shed = 0;
  /** Time of a task that found a free thread (EWMA, ms): how long one takes to run. */
  #runMs = 0;
  readonly #overload: ThrottledWarn | null;
  readonly #name: string;

  constructor(options: PoolOptions) {
    this.#capacity = options.maxThreads;
    this.#maxQueued = options.maxQueued ?? Infinity;
    this.#name = options.name ?? '';
    this.#overload = options.log ? new ThrottledWarn(options.log, 'worker pool full: tasks refused as overload (503)') : null;
    const { filename, minThreads, maxThreads, workerData } = options; // piscina's own `name` is the export to call: not ours
    this.#piscina = new Piscina({ filename, minThreads, maxThreads, workerData, idleTimeout: 60_000, execArgv: workerExecArgv(), recordTiming: false });
  }

  /** Tasks waiting for a thread now. */
  get queued(): number {
    return this.#out > this.#capacity ? this.#out - this.#capacity : 0;
  }

  /**
   * Runs `task` on a thread. Refused at once (PoolOverloadedError) when the
   * queue is full, or when at the pool's recent run time it would wait more
   * than half of `maxWaitMs` (its caller's timeout): shed before it can only time out.
   */
  run(task: Task, options?: { signal?: AbortSignal; maxWaitMs?: number }): Promise<Result> {
    const queued = this.queued;
    if (this.#out >= this.#capacity) {
      if (queued >= this.#maxQueued) return this.#refuse(`queue full (${queued} tasks waiting)`);
      // Its wait: the tasks ahead of it and itself, `capacity` at a time. Half the caller's
      // time at most, so that what is admitted still has time to run.
      const waitMs = ((queued + 1) * this.#runMs) / this.#capacity;
      if (options?.maxWaitMs !== undefined && waitMs > options.maxWaitMs / 2) return this.#refuse(`a task would wait about ${Math.round(waitMs)} ms of its ${options.maxWaitMs} ms`);
    }
    const start = this.#advance();
    const ranAtOnce = this.#out < this.#capacity;
    this.#out++;
    if (this.queued > this.#queuedPeak) this.#queuedPeak = this.queued;
    const done = (): void => {
      const now = this.#advance();
      // Only a task that did not wait measures the run time.
      if (ranAtOnce) this.#runMs = this.#runMs === 0 ? now - start : this.#runMs * 0.8 + (now - start) * 0.2;
      this.#out--;
      const us = Math.round((now - start) * 1000);
      this.#taskUs.recordValue(us < 1 ? 1 : us > 600_000_000 ? 600_000_000 : us);
    };
    const pending = this.#piscina.run(task, options?.signal ? { signal: options.signal } : undefined);
    pending.then(done, done);
    return pending;
  }

  #refuse(reason: string): Promise<never> {
    this.#shed++;
    this.#overload?.hit({ pool: this.#name, reason, queued: this.queued, threads: this.#capacity, shedTotal: this.#shed });
    return Promise.reject(new PoolOverloadedError(`worker pool ${this.#name || ''} full: ${reason}`.replace('  ', ' ')));
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
    const queued = Math.max(this.#queuedPeak, this.queued);
    this.#queuedPeak = this.queued;
    return { queued, shed: this.#shed, threads: this.#piscina.threads.length, utilization, taskMs };
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

/** Tasks a scan pool lets wait per thread; beyond, 503 ZTG_OVERLOADED (its drain-rate check usually refuses first). */
const QUEUED_PER_THREAD = 64;

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
export function workerPool<Task, Result>(worker: URL, workers: number, log?: WarnSink): WorkerPool<Task, Result> | null {
  const existing = pools.get(worker.href);
  if (existing) return existing as WorkerPool<Task, Result>;
  if (!existsSync(fileURLToPath(worker))) return null;
  const name = fileURLToPath(worker).split('/').slice(-2).join('/');
  const pool = new WorkerPool<Task, Result>({ filename: worker.href, minThreads: 1, maxThreads: workers, maxQueued: workers * QUEUED_PER_THREAD, log, name });
  pools.set(worker.href, pool as WorkerPool);
  watchPool(name, pool as WorkerPool);
  return pool;
}
