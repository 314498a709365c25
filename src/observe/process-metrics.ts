import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from './metrics.js';
import type { DistributedLimiter } from '../ratelimit/limiter.js';
import type { GossipCounters } from '../ratelimit/gossip.js';
import { watchedPools } from '../workers/pool.js';

/**
 * What a gateway process reports of itself: event-loop delay (the first sign
 * of blocking work on the hot path), memory, and the rate limiter's and
 * gossip channel's own totals. Read when a snapshot is taken, never per request.
 */
export function watchProcess(metrics: Metrics, limiter: DistributedLimiter, gossip: () => GossipCounters | null): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const loop = metrics.gauge('ztgate_event_loop_delay_ms', 'Event-loop delay since the previous snapshot.', ['quantile']);
  loop.onCollect(() => {
    loop.set(['0.5'], delay.percentile(50) / 1e6);
    loop.set(['0.99'], delay.percentile(99) / 1e6);
    loop.set(['1'], delay.max / 1e6);
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
  const busy = metrics.gauge('ztgate_worker_pool_utilization', 'Share of the threads\' time spent running tasks, by pool.', ['pool']);
  const wait = metrics.gauge('ztgate_worker_pool_wait_ms', 'Time tasks waited for a thread, since the pool started, by pool and quantile.', ['pool', 'quantile']);
  queued.onCollect(() => {
    for (const [name, pool] of watchedPools()) {
      queued.set([name], pool.queueSize);
      threads.set([name], pool.threads.length);
      busy.set([name], pool.utilization);
      const w = pool.histogram.waitTime;
      wait.set([name, '0.5'], w.p50);
      wait.set([name, '0.99'], w.p99);
      wait.set([name, '1'], w.max);
    }
  });
  return () => delay.disable();
}
