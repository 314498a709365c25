import t from 'tap';
import { fakeRequestContext } from '../helpers/request-context.js';
import type { RequestContext, StageContext, StageReply } from '../../src/pipeline/stage.js';
import { ManualClock } from '../../src/ratelimit/gcra.js';
import { DistributedLimiter } from '../../src/ratelimit/limiter.js';
import { RateLimitStage } from '../../src/ratelimit/stage.js';
import { blockedReply, Sanctions } from '../../src/observe/anomaly/sanctions.js';

t.test('sanctions: block and tighten expire, the strongest tighten wins, the table is bounded', async (t) => {
  const clock = { now: 1_000_000 };
  const s = new Sanctions(3, () => clock.now);
  t.equal(s.size, 0);
  t.notOk(s.active, 'nothing imposed: the stages skip their checks');
  s.impose('consumer:alice', { type: 'block', durationMs: 60_000 }, 'spike');
  t.ok(s.active);
  s.impose('network:203.0.113.0/24', { type: 'tighten', factor: 4, durationMs: 30_000 }, 'scan');
  t.same(s.blockedConsumer('alice'), { subject: 'consumer:alice', rule: 'spike', until: 1_060_000 });
  t.equal(s.blockedConsumer('bob'), null);
  t.equal(s.blockedAddress('203.0.113.9'), null, 'tightened is not blocked');
  t.equal(s.tightenFactor(null, '203.0.113.9'), 4);
  t.equal(s.tightenFactor('alice', '198.51.100.1'), 1, 'a blocked consumer is not also tightened');
  s.impose('network:203.0.113.0/24', { type: 'tighten', factor: 2, durationMs: 90_000 }, 'scan');
  t.equal(s.tightenFactor(null, '203.0.113.9'), 4, 'a weaker tighten does not loosen one in force');
  clock.now += 60_000;
  t.equal(s.blockedConsumer('alice'), null, 'the block expired');
  t.equal(s.tightenFactor(null, '203.0.113.9'), 4, 'the tighten was extended to the later end');
  clock.now += 31_000;
  t.equal(s.tightenFactor(null, '203.0.113.9'), 1);
  t.equal(s.size, 0, 'expired entries are dropped when read');
  s.impose('network:192.0.2.0/24', { type: 'block', durationMs: 1000 }, 'scan');
  s.impose('consumer:zed', { type: 'tighten', factor: 2, durationMs: 2000 }, 'spike');
  clock.now += 1500;
  t.ok(s.active, 'one still in force');
  clock.now += 500;
  t.notOk(s.active, 'all ended: inactive again, without anyone reading them');
  t.equal(s.size, 0, 'and the table is emptied');
  for (const c of ['a', 'b', 'c', 'd']) s.impose(`consumer:${c}`, { type: 'block', durationMs: 1000 }, 'r');
  t.equal(s.size, 3, 'bounded');
  t.equal(s.blockedConsumer('a'), null, 'the oldest gave way');
  t.ok(s.blockedConsumer('d'));
  const reply = blockedReply({ subject: 'consumer:d', rule: 'r', until: clock.now + 1500 }, clock.now);
  t.match(reply, { error: { code: 'ZTG_BLOCKED', status: 403 }, reason: 'consumer:d blocked by alert rule "r"', headers: [['retry-after', '2']] });
});

function ctx(consumer: string | null, ip = '198.51.100.7'): RequestContext {
  const identity = consumer ? { method: 'apiKey', subject: consumer, consumer, environment: 'prod', scopes: new Set(), roles: new Set(), claims: {} } : undefined;
  return fakeRequestContext({ clientAddress: ip, peerAddress: ip, headers: [], state: identity ? { identity } : {} });
}

t.test('rate-limit stage: a tightened consumer or network pays factor × the cost, within the burst', async (t) => {
  const sanctions = new Sanctions();
  const log = { warn: () => {} } as unknown as StageContext['log'];
  const admitted = (s: RateLimitStage, c: RequestContext, n: number) => {
    let ok = 0;
    for (let i = 0; i < n; i++) if (s.onRequest(c) === undefined) ok++;
    return ok;
  };
  const fresh = () => new RateLimitStage({ limits: [{ rate: '10/s', burst: 10, key: ['consumer'] }] }, new DistributedLimiter({ clock: new ManualClock() }), log, sanctions);
  t.equal(admitted(fresh(), ctx('alice'), 20), 10, 'untightened: the burst');
  sanctions.impose('consumer:alice', { type: 'tighten', factor: 5, durationMs: 60_000 }, 'spike');
  t.equal(admitted(fresh(), ctx('alice'), 20), 2, 'tightened by 5: a fifth');
  t.equal(admitted(fresh(), ctx('bob'), 20), 10, 'another consumer is untouched');
  sanctions.impose('network:203.0.113.0/24', { type: 'tighten', factor: 1000, durationMs: 60_000 }, 'scan');
  const s = fresh();
  t.equal(admitted(s, ctx(null, '203.0.113.50'), 20), 1, 'a factor past the burst costs the whole burst: one request, not none');
  const r = s.onRequest(ctx(null, '203.0.113.50')) as StageReply;
  t.equal(r.error.code, 'ZTG_RATE_LIMITED', 'beyond it: the ordinary 429');
  sanctions.clear();
  t.equal(admitted(fresh(), ctx('alice'), 20), 10, 'sanctions lifted: the burst again');
});
