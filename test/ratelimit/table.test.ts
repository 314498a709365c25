import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { evaluate, makeLimit, ManualClock, newDecision, type Policy } from '../../src/ratelimit/gcra.js';
import { BucketTable, hashKey } from '../../src/ratelimit/table.js';

const policy: Policy = { id: 'p', limits: [makeLimit('l', 10, 1000)] };
const out = newDecision();

function hit(table: BucketTable, key: string, now: number): boolean {
  const b = table.getOrCreate(key, hashKey(key), policy);
  return evaluate(b.tats, policy.limits, 1, now, true, out).allowed;
}

t.test('hashKey is stable FNV-1a', async (tt) => {
  tt.equal(hashKey(''), 0x811c9dc5);
  tt.equal(hashKey('a'), 0xe40c292c);
  tt.equal(hashKey('foobar'), 0xbf9cf968);
});

t.test('sharding spreads keys and keeps per-key state', async (tt) => {
  const clock = new ManualClock();
  const table = new BucketTable({ shards: 16, maxEntries: 100_000, clock });
  for (let i = 0; i < 1600; i++) hit(table, `ip:${i}`, clock.now());
  tt.equal(table.size, 1600);
  for (const s of table.shards) tt.ok(s.size > 50 && s.size < 150, `shard size ${s.size}`);
  for (let i = 0; i < 9; i++) hit(table, 'ip:7', clock.now());
  tt.notOk(hit(table, 'ip:7', clock.now()), 'eleventh hit on one key refused');
  tt.ok(hit(table, 'ip:8', clock.now()), 'other keys unaffected');
});

t.test('idle buckets are swept once they have refilled', async (tt) => {
  const clock = new ManualClock();
  const table = new BucketTable({ shards: 4, maxEntries: 1000, clock });
  for (let i = 0; i < 100; i++) hit(table, `k${i}`, clock.now());
  clock.advance(50);
  for (let i = 0; i < 10; i++) hit(table, `busy`, clock.now());
  clock.advance(20);
  tt.equal(table.sweep(), 0, 'nothing has refilled yet');
  clock.advance(900);
  tt.equal(table.sweep(), 100, 'the 100 single-hit buckets are full again');
  tt.equal(table.size, 1);
  tt.ok(table.get('busy'));
  clock.advance(1000);
  table.sweep(2);
  table.sweep(2);
  tt.equal(table.size, 0);
  tt.equal(table.stats().evictedIdle, 101);
});

t.test('hard cap per shard: 300,000 rotating keys stay bounded, a busy key survives', async (tt) => {
  const clock = new ManualClock();
  const table = new BucketTable({ shards: 8, maxEntries: 20_000, clock });
  let busyRefused = 0;
  for (let i = 0; i < 300_000; i++) {
    hit(table, `ip:${i}`, clock.now());
    if (i % 1000 === 0) {
      // a legitimate client hammering at 10x its limit
      if (!hit(table, 'busy-client', clock.now())) busyRefused++;
    }
    if (i % 100 === 0) clock.advance(1);
  }
  const s = table.stats();
  tt.ok(s.size <= 20_000, `size ${s.size} within the cap`);
  tt.ok(s.evictedCap + s.evictedIdle > 270_000, `evicted ${s.evictedIdle} idle, ${s.evictedCap} at the cap`);
  tt.ok(table.get('busy-client'), 'the busy key was given second chances and kept');
  tt.ok(busyRefused > 0, 'and its bucket kept its state');
});

t.test('bytes per key (heap delta over 200,000 distinct keys)', async (tt) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const clock = new ManualClock();
  const table = new BucketTable({ shards: 64, maxEntries: 1_000_000, clock });
  const n = 200_000;
  for (let i = 0; i < n; i++) hit(table, `ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, clock.now());
  gc();
  const perKey = (process.memoryUsage().heapUsed - before) / n;
  tt.comment(`~${Math.round(perKey)} bytes per key (key strings included)`);
  tt.equal(table.size, n);
  tt.ok(perKey < 400, `${Math.round(perKey)} B/key`);
});
