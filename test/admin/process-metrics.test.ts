import t from 'tap';
import { freePort } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { parseExposition } from './exposition.js';
import { startAdminGateway, until } from './helpers.js';

/**
 * What a gateway process reports of itself reaches /metrics: event-loop
 * delay, memory, and the worker pool an inspected body over 16 KiB went
 * through (its threads, queue and wait).
 */

t.setTimeout(120_000);

t.test('process gauges: event loop, memory, worker pools', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const a = await startAdminGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [{ name: 'orders', match: { path: '/orders' }, upstream: 'app', public: true, stages: [{ type: 'inspect' }] }],
  });
  t.teardown(() => a.gw.stop());

  // Over the inline limit: scanned in the inspection pool.
  const body = JSON.stringify({ items: Array.from({ length: 1500 }, (_, i) => ({ sku: `item-${i}`, qty: i % 7 })) });
  t.ok(body.length > 16 * 1024);
  const pool = { pool: 'inspect/worker.js', process: '0' };
  // Pool statistics cover the time since the previous snapshot (a periodic one may fall
  // between the request and the scrape): a pooled request, then a scrape, until one shows it.
  const e = await until(
    async () => {
      const res = await fetch(`${a.gw.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      t.equal(res.status, 200, 'the big body passed inspection');
      return parseExposition((await a.call('/metrics')).body);
    },
    (x) => (x.get('ztgate_worker_pool_task_seconds', { ...pool, quantile: '1' }) ?? 0) > 0,
  );
  t.ok(e.get('ztgate_worker_pool_threads', pool)! >= 1, 'the inspection pool has a thread');
  t.equal(e.get('ztgate_worker_pool_queued', pool), 0, 'nothing waits');
  t.ok(e.get('ztgate_worker_pool_task_seconds', { ...pool, quantile: '0.5' })! > 0, 'task time reported');
  t.ok(e.get('ztgate_worker_pool_utilization', pool)! > 0, 'utilization reported');
  // Node's delay histogram counts its own 10 ms tick: an idle loop must not read as 10 ms late.
  t.ok(e.get('ztgate_event_loop_delay_seconds', { quantile: '0.5', process: '0' })! < 0.01, 'event-loop delay reported beyond the sampling tick');
  t.ok(e.get('ztgate_memory_bytes', { kind: 'rss', process: '0' })! > 10 * 1024 * 1024, 'RSS reported');
});
