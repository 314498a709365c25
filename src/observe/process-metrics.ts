import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from '../core/metrics.js';
import type { DistributedLimiter } from '../ratelimit/limiter.js';
import type { GossipCounters } from '../ratelimit/gossip.js';
import { watchedPools } from '../workers/pool.js';

/**
 * What a gateway process reports of itself: event-loop delay (the first sign
 * of blocking work on the hot path), memory, and the rate limiter's and
 * gossip channel's own totals. Read when a snapshot is taken, never per request.
 */
/** How often Node's timer samples the event-loop delay. */
const LOOP_RESOLUTION_MS = 10;

export function watchProcess(metrics: Metrics, limiter: DistributedLimiter, gossip: () => GossipCounters | null): () => void {
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

  const decisions = metrics.counter('ztgate_ratelimit_decisions_total', 'Rate-limit decisions, by outcome.', ['outcome']);
  const members = metrics.gauge('ztgate_ratelimit_members', 'Rate-limit members that may own keys (this one included).');
  const isolated = metrics.gauge('ztgate_ratelimit_isolated', '1 while cut off from every peer and deciding on a fair share.');
  const buckets = metrics.gauge('ztgate_ratelimit_buckets', 'Token buckets held by this process.');
  const evicted = metrics.counter('ztgate_ratelimit_evicted_total', 'Buckets dropped, by reason.', ['reason']);
  decisions.onCollect(() => {
    const m = limiter.metrics();
    decisions.set(['admitted'], m.admitted);
    decisions.set(['refused'], m.refused);
    decisions.set(['fallback'], m.fallbackDecisions);
    members.set([], m.members);
    isolated.set([], m.isolated);
    buckets.set([], m.table.size);
    evicted.set(['idle'], m.table.evictedIdle);
    evicted.set(['cap'], m.table.evictedCap);
  });

  const datagrams = metrics.counter('ztgate_gossip_datagrams_total', 'Gossip datagrams, by direction and outcome.', ['outcome']);
  const membership = metrics.counter('ztgate_gossip_membership_total', 'Gossip membership changes.', ['change']);
  datagrams.onCollect(() => {
    const c = gossip();
    if (c === null) return;
    datagrams.set(['sent'], c.sent);
    datagrams.set(['send_error'], c.sendErrors);
    datagrams.set(['received'], c.received);
    datagrams.set(['accepted'], c.accepted);
    datagrams.set(['dropped_forged'], c.dropped.forged);
    datagrams.set(['dropped_replayed'], c.dropped.replayed);
    datagrams.set(['dropped_oversized'], c.dropped.oversized);
    datagrams.set(['dropped_malformed'], c.dropped.malformed);
    datagrams.set(['too_large'], c.tooLarge);
    membership.set(['joined'], c.joined);
    membership.set(['died'], c.died);
    membership.set(['left'], c.left);
  });
  const queued = metrics.gauge('ztgate_worker_pool_queued', 'Tasks waiting for a worker thread, by pool.', ['pool']);
  const threads = metrics.gauge('ztgate_worker_pool_threads', 'Worker threads, by pool.', ['pool']);
  const busy = metrics.gauge('ztgate_worker_pool_utilization', 'Share of the threads\' time with a task handed to them since the previous snapshot, by pool.', ['pool']);
  const task = metrics.gauge('ztgate_worker_pool_task_ms', 'Task time (queue wait, run, hand-over) since the previous snapshot, by pool and quantile.', ['pool', 'quantile']);
  queued.onCollect(() => {
    for (const [name, pool] of watchedPools()) {
      const w = pool.window();
      queued.set([name], w.queued);
      threads.set([name], w.threads);
      busy.set([name], w.utilization);
      task.set([name, '0.5'], w.taskMs?.p50 ?? 0);
      task.set([name, '0.99'], w.taskMs?.p99 ?? 0);
      task.set([name, '1'], w.taskMs?.max ?? 0);
    }
  });
  return () => delay.disable();
}
