import t from 'tap';
import { consumeAll, evaluate, Gcra, isFull, limitFromRate, makeLimit, ManualClock, newDecision, parseRate, remainingOf } from '../../src/ratelimit/gcra.js';

t.test('parseRate', async (tt) => {
  tt.same(parseRate('20/s'), { count: 20, periodMs: 1000 });
  tt.same(parseRate('5000/h'), { count: 5000, periodMs: 3_600_000 });
  tt.same(parseRate('100/10s'), { count: 100, periodMs: 10_000 });
  tt.same(parseRate('7/day'), { count: 7, periodMs: 86_400_000 });
  tt.same(parseRate('3/m'), { count: 3, periodMs: 60_000 });
  for (const bad of ['', '20', '/s', '20/', '20/fortnight', '-1/s', '0/s', '20/0s']) tt.throws(() => parseRate(bad), bad);
});

t.test('burst, refill, remaining, reset and retry-after with a fake clock', async (tt) => {
  const clock = new ManualClock();
  const g = new Gcra([limitFromRate('per-second', '10/s', 5)], clock);
  const tats: number[] = [];
  for (let i = 0; i < 5; i++) {
    const d = g.check(tats);
    tt.ok(d.allowed, `burst hit ${i}`);
    tt.equal(d.remaining, 4 - i);
    tt.equal(d.resetMs, (i + 1) * 100);
  }
  let d = g.check(tats);
  tt.notOk(d.allowed, 'burst exhausted');
  tt.equal(d.remaining, 0);
  tt.equal(d.retryAfterMs, 100, 'one unit refills in 100 ms');
  tt.equal(d.resetMs, 500);
  const before = tats[0];
  g.check(tats);
  tt.equal(tats[0], before, 'a refusal consumes nothing');
  clock.advance(99);
  tt.notOk(g.check(tats).allowed);
  clock.advance(1);
  d = g.check(tats);
  tt.ok(d.allowed, 'admitted once one unit refilled');
  tt.equal(d.remaining, 0);
  clock.advance(10_000);
  tt.ok(isFull(tats, clock.now()), 'idle bucket is full');
  tt.equal(remainingOf(tats, g.limits, 0, clock.now()), 5);
});

t.test('steady rate: admitted = burst + rate * time', async (tt) => {
  const clock = new ManualClock();
  const g = new Gcra([limitFromRate('l', '20/s')], clock);
  const tats: number[] = [];
  let admitted = 0;
  // 1000 req/s for 10 s.
  for (let i = 0; i < 10_000; i++) {
    if (g.check(tats).allowed) admitted++;
    clock.advance(1);
  }
  tt.equal(admitted, 20 + 200 - 1, 'burst 20 + 20/s for 10 s (the last unit still refilling)');
});

t.test('cost per request', async (tt) => {
  const clock = new ManualClock();
  const g = new Gcra([makeLimit('l', 10, 1000)], clock);
  const tats: number[] = [];
  tt.ok(g.check(tats, 4).allowed);
  tt.equal(g.check(tats, 4).remaining, 2);
  const d = g.check(tats, 4);
  tt.notOk(d.allowed);
  tt.equal(d.retryAfterMs, 200, 'two more units needed');
  const huge = g.check([], 11);
  tt.notOk(huge.allowed, 'cost above capacity never passes');
  tt.equal(huge.retryAfterMs, Infinity);
});

t.test('several limits: all must admit, none consumed on refusal', async (tt) => {
  const clock = new ManualClock();
  const limits = [limitFromRate('burst', '20/s'), limitFromRate('hourly', '30/h')];
  const out = newDecision();
  const tats: number[] = [];
  let admitted = 0;
  for (let i = 0; i < 25; i++) if (evaluate(tats, limits, 1, clock.now(), true, out).allowed) admitted++;
  tt.equal(admitted, 20, 'the per-second limit refuses first');
  tt.equal(out.limitIndex, 0);
  const hourlyTat = tats[1];
  tt.equal(hourlyTat, clock.now() + 20 * 120_000, 'hourly consumed only for the 20 admitted');
  clock.advance(1000);
  admitted = 0;
  for (let i = 0; i < 25; i++) if (evaluate(tats, limits, 1, clock.now(), true, out).allowed) admitted++;
  tt.equal(admitted, 10, 'then the hourly limit (30 in all) refuses');
  tt.equal(out.limitIndex, 1);
  tt.notOk(out.allowed);
  tt.ok(out.retryAfterMs > 100_000 && out.retryAfterMs <= 120_000, `retry after ${out.retryAfterMs}`);
  tt.equal(remainingOf(tats, limits, 0, clock.now()), 10, 'per-second bucket untouched by the hourly refusals');
  // An admitted decision reports the most constraining limit.
  clock.advance(3_600_000);
  const d = evaluate(tats, limits, 1, clock.now(), false, out);
  tt.ok(d.allowed);
  tt.equal(d.limitIndex, 0);
  tt.equal(d.remaining, 19);
});

t.test('fair-share scale and unconditional consumption with bounded debt', async (tt) => {
  const clock = new ManualClock();
  const limits = [makeLimit('l', 30, 1000, 3)];
  const out = newDecision();
  const tats: number[] = [];
  let admitted = 0;
  for (let i = 0; i < 3000; i++) {
    if (evaluate(tats, limits, 1, clock.now(), true, out, 1 / 3).allowed) admitted++;
    clock.advance(1);
  }
  tt.ok(out.fallback);
  tt.ok(admitted >= 1 + 29 && admitted <= 1 + 30, `a third of 30/s for 3 s plus a third of the burst: ${admitted}`);
  const owner: number[] = [];
  consumeAll(owner, limits, 100, clock.now(), 10);
  tt.equal(owner[0], clock.now() + 100 + 1000, 'debt capped at tolerance * (1 + 10)');
  tt.notOk(evaluate(owner, limits, 1, clock.now(), true, out).allowed);
  tt.ok(Math.abs(out.retryAfterMs - (1000 + 100 / 3 * 1 + 0)) < 40, `retry pays the debt back: ${out.retryAfterMs}`);
});
