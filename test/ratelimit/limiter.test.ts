import t from 'tap';
import { makeLimit, ManualClock, type Policy } from '../../src/ratelimit/gcra.js';
import { DistributedLimiter, rendezvous } from '../../src/ratelimit/limiter.js';
import { hashKey } from '../../src/ratelimit/table.js';
import { eventually, gossipCluster } from './gossip-cluster.js';

const SECRET = 'limiter-test-secret-0123456789';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cluster = (n: number) => gossipCluster(n, SECRET);

/** Runs `perMember` checks per second on each limiter for `ms`; returns admissions per limiter. */
async function load(limiters: DistributedLimiter[], key: string, policy: Policy, perMember: number, ms: number, alive: () => boolean[] = () => limiters.map(() => true)) {
  const admitted = limiters.map(() => 0);
  const done = limiters.map(() => 0);
  const start = Date.now();
  while (Date.now() - start < ms) {
    const due = Math.floor(((Date.now() - start) / 1000) * perMember);
    const up = alive();
    limiters.forEach((l, i) => {
      if (!up[i]) return;
      for (; done[i] < due; done[i]++) if (l.check(key, policy).allowed) admitted[i]++;
    });
    await sleep(4);
  }
  return admitted;
}

t.test('rendezvous hashing spreads keys and moves only the dead member\'s', async (tt) => {
  const members = ['0000000000000001', '0000000000000002', '0000000000000003'];
  const counts = new Map<string, number>();
  const owners: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const o = rendezvous(hashKey(`k${i}`), members, hashKey);
    owners.push(o);
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  for (const m of members) tt.ok(counts.get(m)! > 800, `${m} owns ${counts.get(m)}`);
  let moved = 0;
  let wrong = 0;
  for (let i = 0; i < 3000; i++) {
    const o = rendezvous(hashKey(`k${i}`), members.slice(0, 2), hashKey);
    if (o !== owners[i]) moved++;
    if (owners[i] !== members[2] && o !== owners[i]) wrong++;
  }
  tt.equal(wrong, 0, 'keys of the survivors stay where they were');
  tt.equal(moved, counts.get(members[2]), 'only the dead member\'s keys move');
});

t.test('single process: plain GCRA and dry runs', async (tt) => {
  const clock = new ManualClock();
  const l = new DistributedLimiter({ clock });
  const p: Policy = { id: 'p', limits: [makeLimit('l', 5, 1000)] };
  for (let i = 0; i < 5; i++) tt.ok(l.check('k', p).allowed);
  tt.notOk(l.check('k', p, 1, true).allowed);
  clock.advance(200);
  tt.ok(l.check('k', p, 1, true).allowed, 'dry run admits');
  tt.ok(l.check('k', p).allowed, 'and consumed nothing');
  tt.notOk(l.check('k', p).allowed);
  tt.match(l.metrics(), { decisions: 7, admitted: 6, refused: 1, isolated: 0, members: 1 });
});

t.test('three members on loopback hold one key to its limit; then one dies; then the channel is cut', async (tt) => {
  const c = await cluster(3);
  tt.teardown(() => c.close());
  tt.ok(c.ok, 'cluster formed');
  const policy: Policy = { id: 'acc', limits: [makeLimit('acc', 100, 1000, 10)] };
  for (const l of c.limiters) l.register(policy);

  // Phase 1: 3 x 100/s against 100/s for 2.5 s: expect 10 + 250.
  let admitted = await load(c.limiters, 'k1', policy, 100, 2500);
  let total = admitted.reduce((a, b) => a + b, 0);
  let ratio = total / 260;
  tt.comment(`3 members, 2.5 s: admitted ${total} (${admitted.join('+')}) of 260 expected: ${ratio.toFixed(3)}`);
  tt.ok(ratio > 0.85 && ratio < 1.15, `ratio ${ratio.toFixed(3)}`);
  tt.ok(admitted.every((a) => a > 15), 'no member starved (the owner tends to get less: the others decide on older state)');
  tt.ok(c.limiters.some((l) => l.metrics().hitsSent > 0) && c.limiters.some((l) => l.metrics().statesReceived > 0), 'hits and state travelled');

  // Phase 2: the key's owner dies; the two others take the whole limit.
  const ownerId = c.limiters[0].ownerOf('k2') || c.gossips[0].id;
  const dead = c.gossips.findIndex((g) => g.id === ownerId);
  c.limiters[dead].stop();
  c.gossips[dead].setCut(true);
  const survivors = c.limiters.filter((_, i) => i !== dead);
  tt.ok(await eventually(() => c.gossips.every((g, i) => i === dead || g.owners().length === 2), 5000), 'death detected');
  await sleep(300);
  admitted = await load(survivors, 'k2', policy, 150, 1500);
  total = admitted.reduce((a, b) => a + b, 0);
  ratio = total / 160;
  tt.comment(`after a death, 2 members, 1.5 s: admitted ${total} of 160 expected: ${ratio.toFixed(3)}`);
  tt.ok(ratio > 0.85 && ratio < 1.15, `share returned: ${ratio.toFixed(3)}`);

  // Phase 3: cut the two survivors apart: each falls back to half.
  const [s1, s2] = c.gossips.filter((_, i) => i !== dead);
  s1.setCut(true);
  s2.setCut(true);
  tt.ok(await eventually(() => survivors.every((l) => l.metrics().isolated === 1), 5000), 'both isolated');
  tt.ok(survivors.every((l) => l.metrics().share === 0.5));
  admitted = await load(survivors, 'k3', policy, 150, 1500);
  total = admitted.reduce((a, b) => a + b, 0);
  tt.comment(`cut, 2 isolated members, 1.5 s: admitted ${total} (${admitted.join('+')}), 160 expected`);
  tt.ok(total > 0.8 * 160 && total < 1.2 * 160, 'fair shares add up to the limit');
  tt.ok(survivors.every((l) => l.metrics().fallbackDecisions > 0), 'counted as fallback decisions');
});

t.test('hits and state for many keys are batched into datagrams that fit', async (tt) => {
  const c = await cluster(2);
  tt.teardown(() => c.close());
  tt.ok(c.ok);
  const policy: Policy = { id: 'many', limits: [makeLimit('m', 1000, 1000), makeLimit('h', 100_000, 3_600_000)] };
  for (const l of c.limiters) l.register(policy);
  const [a, b] = c.limiters;
  const keys: string[] = [];
  for (let i = 0; keys.length < 3000; i++) {
    const k = `rl:many\u001f${'x'.repeat(60)}-${i}`;
    if (a.ownerOf(k) !== '') keys.push(k); // owned by b
  }
  for (const k of keys) for (let j = 0; j < 3; j++) a.check(k, policy);
  tt.ok(await eventually(() => b.metrics().hitsReceived === 3000), `owner received every key's hits: ${b.metrics().hitsReceived}`);
  tt.ok(await eventually(() => a.metrics().statesReceived >= 3000), 'and sent the state back');
  tt.equal(c.gossips[0].counters.tooLarge + c.gossips[1].counters.tooLarge, 0, 'no datagram too large');
  tt.ok(c.gossips[0].counters.sent > 3000 / 30, 'several datagrams');
  const [dropA, dropB] = c.gossips.map((g) => g.counters.dropped);
  tt.same([dropA, dropB], [{ forged: 0, replayed: 0, oversized: 0, malformed: 0 }, { forged: 0, replayed: 0, oversized: 0, malformed: 0 }]);
});
