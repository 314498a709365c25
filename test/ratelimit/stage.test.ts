import t from 'tap';
import { fakeRequestContext } from '../helpers/request-context.js';
import { HeaderList } from '../../src/pipeline/headers.js';
import type { RequestContext, ResponseContext, StageContext, StageReply } from '../../src/pipeline/stage.js';
import { Metrics } from '../../src/core/metrics.js';
import { ManualClock } from '../../src/ratelimit/gcra.js';
import { DistributedLimiter, RATE_LIMITER } from '../../src/ratelimit/limiter.js';
import { Services } from '../../src/pipeline/services.js';
import { RATE_LIMITED, rateLimitSchema, rateLimitStage, RateLimitStage, type RateLimitOptions } from '../../src/ratelimit/stage.js';

function ctx(over: { ip?: string; route?: string; identity?: unknown; headers?: string[] } = {}): RequestContext {
  const ip = over.ip ?? '198.51.100.7';
  return fakeRequestContext({
    clientAddress: ip,
    peerAddress: ip,
    route: { name: over.route ?? 'orders' } as RequestContext['route'],
    headers: over.headers ?? [],
    state: over.identity ? { identity: over.identity } : {},
  });
}

const logs: unknown[][] = [];
const log = { warn: (...a: unknown[]) => logs.push(a) } as unknown as StageContext['log'];

function stage(options: Omit<RateLimitOptions, 'limits'> & { limits: RateLimitOptions['limits'] }, clock = new ManualClock()) {
  const limiter = new DistributedLimiter({ clock });
  return { s: new RateLimitStage(options, limiter, log), clock, limiter };
}

function principal(roles: string[], consumer = 'acme') {
  return { method: 'apiKey', subject: consumer, consumer, environment: 'prod', scopes: new Set(), roles: new Set(roles), claims: {} };
}

t.test('block mode: 429 problem with Retry-After and RateLimit headers', async (tt) => {
  const { s, clock } = stage({ limits: [{ rate: '2/s', key: ['ip'] }, { name: 'hourly', rate: '5/h', key: ['ip'] }] });
  tt.equal(s.onRequest(ctx()), undefined);
  tt.equal(s.onRequest(ctx()), undefined);
  const r = s.onRequest(ctx()) as StageReply;
  tt.equal(r.error, RATE_LIMITED);
  tt.equal(r.error.status, 429);
  tt.equal(r.error.code, 'ZTG_RATE_LIMITED');
  tt.notMatch(r.reason, /198\.51/, 'the reason names the limit, not the key');
  tt.same(r.headers, [
    ['retry-after', '1'],
    ['ratelimit-policy', '"2/s";q=2;w=1, "hourly";q=5;w=3600'],
    ['ratelimit', '"2/s";r=0;t=1'],
  ]);
  tt.equal(s.onRequest(ctx({ ip: '198.51.100.8' })), undefined, 'another client has its own bucket');
  clock.advance(1000);
  tt.equal(s.onRequest(ctx()), undefined);
  tt.equal(s.onRequest(ctx()), undefined);
  clock.advance(1000);
  tt.equal(s.onRequest(ctx()), undefined);
  const h = s.onRequest(ctx()) as StageReply;
  tt.same(h.headers![2], ['ratelimit', '"hourly";r=0;t=718'], 'the hourly limit refuses next');
  tt.same(h.headers![0], ['retry-after', '718'], '720 s per unit, 2 s already passed');
  tt.match(s.counters, { admitted: 6, limited: 2, monitored: 0 });
});

t.test('per-route buckets by default, shared with scope global', async (tt) => {
  const { s } = stage({ limits: [{ rate: '1/s', key: ['ip'] }] });
  tt.equal(s.onRequest(ctx({ route: 'a' })), undefined);
  tt.equal(s.onRequest(ctx({ route: 'b' })), undefined);
  const shared = stage({ scope: 'global', limits: [{ rate: '1/s', key: ['ip'] }] }).s;
  tt.equal(shared.onRequest(ctx({ route: 'a' })), undefined);
  tt.ok(shared.onRequest(ctx({ route: 'b' })));
});

t.test('monitor mode counts and logs without blocking', async (tt) => {
  logs.length = 0;
  const { s } = stage({ mode: 'monitor', limits: [{ rate: '1/s' }] });
  for (let i = 0; i < 5; i++) tt.equal(s.onRequest(ctx()), undefined);
  tt.match(s.counters, { admitted: 1, limited: 0, monitored: 4 });
  tt.equal(logs.length, 1, 'log lines sampled');
  tt.match(logs[0][0], { monitor: true, limit: '1/s', route: 'orders' });
});

t.test('consumer-group overrides and keys from the principal', async (tt) => {
  const { s } = stage({
    limits: [{ rate: '1/s', key: ['consumer'] }],
    overrides: [{ group: 'premium', limits: [{ rate: '3/s', key: ['consumer'] }] }],
  });
  const basic = ctx({ identity: principal(['readers'], 'basic-co') });
  const premium = ctx({ identity: principal(['premium'], 'big-co') });
  tt.equal(s.onRequest(basic), undefined);
  tt.ok(s.onRequest(basic), 'basic: 1/s');
  for (let i = 0; i < 3; i++) tt.equal(s.onRequest(premium), undefined, `premium ${i}`);
  const r = s.onRequest(premium) as StageReply;
  tt.ok(r);
  tt.same(r.headers![1], ['ratelimit-policy', '"3/s";q=3;w=1']);
});

t.test('limits on different keys: all must admit, none charged otherwise; cost', async (tt) => {
  const { s, limiter } = stage({
    limits: [
      { name: 'per-ip', rate: '10/s', key: ['ip'] },
      { name: 'per-tenant', rate: '3/s', key: ['header:x-tenant'], cost: 1 },
    ],
  });
  const a = ctx({ headers: ['x-tenant', 'blue'] });
  for (let i = 0; i < 3; i++) tt.equal(s.onRequest(a), undefined);
  const r = s.onRequest(a) as StageReply;
  tt.same(r.headers![2], ['ratelimit', '"per-tenant";r=0;t=1']);
  // The refused request did not charge the per-ip bucket: 7 more on another tenant pass.
  for (let i = 0; i < 7; i++) tt.equal(s.onRequest(ctx({ headers: ['x-tenant', `t${i}`] })), undefined, `ip unit ${i}`);
  tt.ok(s.onRequest(ctx({ headers: ['x-tenant', 'fresh'] })), 'per-ip exhausted after exactly 10');
  tt.ok(limiter.metrics().decisions > 0);
  const costly = stage({ limits: [{ rate: '10/s', cost: 4 }] }).s;
  tt.equal(costly.onRequest(ctx()), undefined);
  tt.equal(costly.onRequest(ctx()), undefined);
  tt.ok(costly.onRequest(ctx()), 'third request of cost 4 exceeds 10');
});

t.test('headers on admitted responses when asked', async (tt) => {
  const { s } = stage({ headers: true, limits: [{ rate: '5/s' }] });
  const c = ctx();
  tt.equal(s.onRequest(c), undefined);
  const res: ResponseContext = { status: 200, headers: new HeaderList([]), body: null };
  s.onResponse!(c, res);
  tt.equal(res.headers.get('ratelimit-policy'), '"5/s";q=5;w=1');
  tt.equal(res.headers.get('ratelimit'), '"5/s";r=4;t=1');
  tt.equal(stage({ limits: [{ rate: '5/s' }] }).s.onResponse, undefined, 'no hook by default');
});

t.test('factory: schema and validation', async (tt) => {
  tt.equal(rateLimitStage.type, 'rate-limit');
  tt.match(rateLimitSchema, { required: ['type', 'limits'] });
  const cfg = { identity: { consumers: [] } } as never;
  tt.same(rateLimitStage.validate!({ type: 'rate-limit', limits: [{ rate: '20/s', key: ['ip/24'] }] }, cfg), []);
  tt.match(rateLimitStage.validate!({ type: 'rate-limit', limits: [{ rate: '2/s', cost: 5 }] }, cfg), [/cost: larger than the burst/]);
  tt.match(rateLimitStage.validate!({ type: 'rate-limit', limits: [{ rate: '2/s', key: ['ip/40'] }] }, cfg), [/prefix out of range/]);
  const compiled = rateLimitStage.compile({ type: 'rate-limit', limits: [{ rate: '1/s' }] }, { config: cfg, log, services: new Services().set(RATE_LIMITER, new DistributedLimiter({})), workers: 1, processes: 1, metrics: new Metrics() } as StageContext);
  tt.equal(compiled.name, 'rate-limit');
});
