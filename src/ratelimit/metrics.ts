import type { Metrics } from '../core/metrics.js';
import type { DistributedLimiter } from './limiter.js';
import type { GossipCounters } from './gossip.js';

/**
 * The rate limiter's and gossip channel's own totals in the process's
 * metrics: copied from their counters when a snapshot is taken, never per request.
 */
export function watchLimiter(metrics: Metrics, limiter: DistributedLimiter, gossip: () => GossipCounters | null): void {
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
}
