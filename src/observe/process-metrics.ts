import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from '../core/metrics.js';
import { watchedPools } from '../workers/pool.js';

/**
 * What a gateway process reports of itself: event-loop delay (the first sign
 * of blocking work on the hot path), memory and its worker pools. Read when a
 * snapshot is taken, never per request. (The rate limiter reports its own:
 * src/ratelimit/metrics.ts.)
 */
/** How often Node's timer samples the event-loop delay. */
const LOOP_RESOLUTION_MS = 10;

export function watchProcess(metrics: Metrics): () => void {
  const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  delay.enable();
  const loop = metrics.gauge('ztgate_event_loop_delay_ms', 'Event-loop delay since the previous snapshot.', ['quantile']);
  // Node records the time between two of its timer's ticks, so an idle loop reads the resolution: the delay is what is beyond it.
  const late = (ns: number): number => (delay.count === 0 ? 0 : Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS));
  loop.onCollect(() => {
    loop.set(['0.5'], late(delay.percentile(50)));
    loop.set(['0.99'], late(delay.percentile(99)));
    loop.set(['1'], late(delay.max));
    delay.reset();
  });
  const memory = metrics.gauge('ztgate_memory_bytes', 'Process memory.', ['kind']);
  memory.onCollect(() => {
    const m = process.memoryUsage();
    memory.set(['rss'], m.rss);
    memory.set(['heap_used'], m.heapUsed);
    memory.set(['external'], m.external);
  });

  const queued = metrics.gauge('ztgate_worker_pool_queued', 'Most tasks waiting for a worker thread at once since the previous snapshot, by pool.', ['pool']);
  const shed = metrics.counter('ztgate_worker_pool_shed_total', 'Tasks refused as overload (503 ZTG_OVERLOADED): the queue was full or they would have waited past their timeout, by pool.', ['pool']);
  const shedSeen = new Map<string, number>();
  const threads = metrics.gauge('ztgate_worker_pool_threads', 'Worker threads, by pool.', ['pool']);
  const busy = metrics.gauge('ztgate_worker_pool_utilization', 'Share of the threads\' time with a task handed to them since the previous snapshot, by pool.', ['pool']);
  const task = metrics.gauge('ztgate_worker_pool_task_ms', 'Task time (queue wait, run, hand-over) since the previous snapshot, by pool and quantile.', ['pool', 'quantile']);
  queued.onCollect(() => {
    for (const [name, pool] of watchedPools()) {
      const w = pool.window();
      queued.set([name], w.queued);
      const before = shedSeen.get(name) ?? 0;
      if (w.shed > before) shed.inc([name], w.shed - before);
      shedSeen.set(name, w.shed);
      threads.set([name], w.threads);
      busy.set([name], w.utilization);
      task.set([name, '0.5'], w.taskMs?.p50 ?? 0);
      task.set([name, '0.99'], w.taskMs?.p99 ?? 0);
      task.set([name, '1'], w.taskMs?.max ?? 0);
    }
  });
  return () => delay.disable();
}
