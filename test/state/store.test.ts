import t from 'tap';
import pino from 'pino';
import { Metrics } from '../../src/core/metrics.js';
import { StateStore, serverVersion } from '../../src/state/store.js';
import { StoreQuotas } from '../../src/state/quota.js';
import { limitFromRate } from '../../src/ratelimit/gcra.js';
import { startRedis } from './redis-server.js';
import { startFakeStore } from './fake-stores.js';

/** Log lines kept for the asserts. */
function memoryLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function storeFor(url: string, prefix: string, timeoutMs = 200, share = 0.5) {
  const { log, lines } = memoryLog();
  const metrics = new Metrics();
  const store = new StateStore({ redis: { url, keyPrefix: prefix, timeoutMs }, fallbackShare: share }, log, metrics, 2);
  store.start();
  return { store, lines, metrics };
}

const quota = [limitFromRate('q', '50/h')];

t.test('serverVersion reads Redis and Valkey INFO', async (t) => {
  t.same(serverVersion('# Server\r\nredis_version:7.0.15\r\n'), { name: 'redis', version: '7.0.15', major: 7 });
  t.same(serverVersion('redis_version:7.2.4\r\nvalkey_version:8.1.0\r\n'), { name: 'valkey', version: '8.1.0', major: 8 });
  t.equal(serverVersion('nothing here'), null);
});

t.test('two stores race for one quota: the script admits exactly the limit, pipelined in one turn each', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const a = storeFor(redis.url, 'race:');
  const b = storeFor(redis.url, 'race:');
  t.teardown(() => (a.store.close(), b.store.close()));
  await until(() => a.store.usable && b.store.usable, 'both stores ready');
  const qa = new StoreQuotas(a.store, [{ id: 'q:x', limits: quota, onStoreFailure: 'local' }]);
  const qb = new StoreQuotas(b.store, [{ id: 'q:x', limits: quota, onStoreFailure: 'local' }]);
  // 80 checks from each, all issued in one turn: 160 demands on a quota of 50.
  const all = await Promise.all(Array.from({ length: 160 }, (_, i) => (i % 2 ? qa : qb).check(['k'], [1])));
  t.equal(all.filter((d) => d.allowed).length, 50, 'exactly the quota admitted');
  t.equal(all.filter((d) => d.fallback).length, 0, 'all decided by the store');
  const refused = all.find((d) => !d.allowed)!;
  t.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 72_000, 'retry after about one unit (72 s)');
  // A new store instance (a restarted process) sees the same quota.
  a.store.close();
  const c = storeFor(redis.url, 'race:');
  t.teardown(() => c.store.close());
  await until(() => c.store.usable, 'new store ready');
  const qc = new StoreQuotas(c.store, [{ id: 'q:x', limits: quota, onStoreFailure: 'local' }]);
  t.equal((await qc.check(['k'], [1])).allowed, false, 'still spent after a restart');
  t.equal((await qc.check(['other'], [1])).allowed, true, 'another key has its own quota');
});

t.test('store killed: checks answer at once on the fallback share, then the fallback hits are charged to the store', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const a = storeFor(redis.url, 'kill:', 200, 0.5);
  t.teardown(() => a.store.close());
  await until(() => a.store.usable, 'store ready');
  const groups = [{ id: 'q:k', limits: quota, onStoreFailure: 'local' as const }];
  const q = new StoreQuotas(a.store, groups);
  for (let i = 0; i < 10; i++) t.equal((await q.check(['k'], [1])).allowed, true);
  await redis.kill();
  await until(() => !a.store.usable, 'store seen down');
  const started = performance.now();
  const during = await Promise.all(Array.from({ length: 60 }, () => q.check(['k'], [1])));
  t.ok(performance.now() - started < 2000, 'answered without waiting for the dead store');
  const admitted = during.filter((d) => d.allowed).length;
  t.equal(admitted, 25, 'the fallback admits its share (half of 50) and no more');
  t.ok(during.every((d) => d.fallback));
  t.ok(a.lines.some((l) => l.code === 'ZTG_STATE_UNAVAILABLE'), 'a log line says so');
  // Back, empty (no persistence): the 25 fallback hits are charged first, so 25 are left, not 50.
  await redis.start();
  await until(() => a.store.usable, 'store back');
  const after = await Promise.all(Array.from({ length: 60 }, () => q.check(['k'], [1])));
  t.equal(after.filter((d) => d.allowed && !d.fallback).length, 25, 'no burst: the store knows what the fallback admitted');
  t.ok(a.lines.some((l) => l.units === 25), 'the replay is logged with its units');
  const denyQ = new StoreQuotas(a.store, [{ id: 'q:d', limits: quota, onStoreFailure: 'deny' }]);
  const allowQ = new StoreQuotas(a.store, [{ id: 'q:a', limits: quota, onStoreFailure: 'allow' }]);
  await redis.kill();
  await until(() => !a.store.usable, 'store seen down again');
  t.equal((await denyQ.check(['k'], [1])).allowed, false, 'deny refuses while the store is away');
  t.equal((await allowQ.check(['k'], [1])).allowed, true, 'allow admits while the store is away');
});

t.test('store hangs (SIGSTOP): no check waits past timeoutMs, the fallback decides', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const a = storeFor(redis.url, 'hang:', 150, 0.5);
  t.teardown(() => a.store.close());
  await until(() => a.store.usable, 'store ready');
  const q = new StoreQuotas(a.store, [{ id: 'q:h', limits: quota, onStoreFailure: 'local' }]);
  t.equal((await q.check(['k'], [1])).allowed, true);
  redis.pause();
  t.teardown(() => redis.resume());
  const waits: number[] = [];
  let admitted = 0;
  for (let round = 0; round < 10; round++) {
    const started = performance.now();
    const ds = await Promise.all(Array.from({ length: 10 }, () => q.check(['k'], [1])));
    waits.push(performance.now() - started);
    admitted += ds.filter((d) => d.allowed).length;
  }
  // The timer fires at 150 ms; the bound leaves room for a loaded machine, not for a wait on the store.
  t.ok(Math.max(...waits) < 150 + 1000, `longest wait ${Math.max(...waits).toFixed(0)} ms`);
  t.ok(admitted <= 25, `the fallback admitted ${admitted}, at most its share of 25`);
  redis.resume();
  // The store now runs the checks that timed out: each is taken back (refund) or kept in place
  // of the fallback's charge (forgiven), so it ends where the fallback left the quota.
  await until(() => a.store.usable, 'store answering again');
  await until(() => (a.store.metrics.lateAnswers.snapshot().series[0]?.[1] ?? 0) > 0, 'late answers');
  await new Promise((r) => setTimeout(r, 500));
  const after = await Promise.all(Array.from({ length: 100 }, () => q.check(['k'], [1])));
  const afterAdmitted = after.filter((d) => d.allowed).length;
  t.comment({ afterAdmitted, admitted, late: a.store.metrics.lateAnswers.snapshot().series, refunded: a.store.metrics.refunded.snapshot().series, replayed: a.store.metrics.replayed.snapshot().series, calls: a.store.metrics.calls.snapshot().series });
  t.equal(afterAdmitted, 50 - 1 - admitted, 'the quota less the first check and the fallback\'s admissions');
});

for (const kind of ['garbage', 'old'] as const) {
  t.test(`a store that ${kind === 'garbage' ? 'answers garbage' : 'is Redis 6'}: checks fall back at once, the gateway keeps deciding`, async (t) => {
    const fake = await startFakeStore(kind);
    t.teardown(() => fake.close());
    const a = storeFor(fake.url, 'fake:', 100, 0.5);
    t.teardown(() => a.store.close());
    await until(() => fake.connections() > 0, 'the client connects');
    if (kind === 'old') await until(() => a.lines.some((l) => l.code === 'ZTG_STATE_UNAVAILABLE' && String(l.reason).includes('ZTG_STATE_WRONG_VERSION')), 'the version refused in the log');
    else await new Promise((r) => setTimeout(r, 300));
    t.equal(a.store.usable, false);
    const q = new StoreQuotas(a.store, [{ id: 'q:f', limits: quota, onStoreFailure: 'local' }]);
    const started = performance.now();
    const ds = await Promise.all(Array.from({ length: 40 }, () => q.check(['k'], [1])));
    t.ok(performance.now() - started < 1000, 'answered without waiting');
    t.equal(ds.filter((d) => d.allowed).length, 25, 'the fallback share decides');
  });
}
