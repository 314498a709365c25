/**
 * Balancers, circuit breaker, ejection and retry budget in one process (no
 * sockets are opened: targets are only picked). Each case fails if the
 * algorithm it names breaks.
 */
import t from 'tap';
import { validateConfig } from '../../src/config/load.js';
import type { UpstreamConfig } from '../../src/config/types.js';
import { HeaderList } from '../../src/pipeline/headers.js';
import type { RequestContext } from '../../src/pipeline/stage.js';
import { cookieValue } from '../../src/upstream/balancers/cookie.js';
import { Upstream, type Attempt } from '../../src/upstream/upstream.js';
import { CircuitBreaker, type CircuitState } from '../../src/upstream/circuit.js';
import { RetryBudget } from '../../src/upstream/retry-budget.js';
import { OutlierDetector } from '../../src/upstream/outlier.js';
import { Metrics } from '../../src/core/metrics.js';
import { Errors, GatewayError } from '../../src/errors.js';

function upstreamConfig(u: Record<string, unknown>): UpstreamConfig {
  const cfg = validateConfig(
    {
      listeners: [{ name: 'l', port: 8080 }],
      upstreams: [{ name: 'u', ...u }],
      routes: [{ name: 'r', match: { path: '/*' }, upstream: 'u', public: true }],
    },
    '/',
  );
  return cfg.upstreams[0];
}

const targets = (...weights: number[]) => weights.map((weight, i) => ({ url: `http://10.0.0.${i + 1}:80`, weight }));
const host = (a: Attempt | null) => (a ? new URL(a.target.url).hostname : null);

function ctx(headers: [string, string][] = [], clientAddress = '192.0.2.1'): RequestContext {
  return { headers: new HeaderList(headers.flat()), clientAddress } as unknown as RequestContext;
}

const connectFailure = { error: new GatewayError(Errors.UPSTREAM_CONNECT, 'ECONNREFUSED'), unsent: true };

t.test('round robin is weighted and smooth: 5:1:1 → a a b a c a a, no runs of the light ones', async (t) => {
  const u = new Upstream(upstreamConfig({ targets: targets(5, 1, 1) }));
  const seq: string[] = [];
  for (let i = 0; i < 14; i++) {
    const a = u.begin(ctx())!;
    seq.push(host(a)!.slice(-1));
    u.end(a, { status: 200 });
  }
  t.same(seq.join(''), '11213111121311', 'nginx smooth weighted order, twice');
});

t.test('least outstanding: the target with fewer requests in flight wins', async (t) => {
  const u = new Upstream(upstreamConfig({ targets: targets(1, 1), balancer: { algorithm: 'least-outstanding' } }));
  const held: Attempt[] = [];
  for (let i = 0; i < 3; i++) {
    // Keep 3 on whichever was picked; with two targets, p2c always compares both.
    held.push(u.begin(ctx())!);
  }
  const counts = u.health().map((h) => h.inFlight);
  t.ok(Math.abs(counts[0] - counts[1]) <= 1, `in flight stays balanced: ${counts}`);
  const busy = held[0].target;
  for (let i = 0; i < 5; i++) held.push(u.begin(ctx())!); // now 8 in flight, split about evenly
  for (const a of held) if (a.target !== busy) u.end(a, { status: 200 });
  const next = u.begin(ctx())!;
  t.not(next.target, busy, 'the idle target is chosen over the loaded one');
});

t.test('consistent hash on a header: same key same target; ejecting one target moves only its keys', async (t) => {
  const u = new Upstream(
    upstreamConfig({ targets: targets(1, 1, 1, 1), balancer: { algorithm: 'consistent-hash', hashOn: { header: 'X-User' } }, outlierDetection: { maxEjectedPercent: 100, consecutiveConnectFailures: 1 } }),
  );
  const keys = Array.from({ length: 400 }, (_, i) => `user-${i}`);
  const place = () =>
    keys.map((k) => {
      const a = u.begin(ctx([['x-user', k]]))!;
      u.end(a, { status: 200 });
      return host(a)!;
    });
  const before = place();
  t.same(place(), before, 'stable across calls');
  const perTarget = new Map<string, number>();
  for (const h of before) perTarget.set(h, (perTarget.get(h) ?? 0) + 1);
  t.equal(perTarget.size, 4, 'every target owns keys');
  for (const n of perTarget.values()) t.ok(n > 40, `spread: ${[...perTarget.values()]}`);
  // Eject 10.0.0.2 by a connect failure.
  const victim = u.targets[1];
  u.end({ target: victim, probe: false }, connectFailure);
  victim.inFlight++; // balance the end() above, which had no begin()
  t.equal(u.health()[1].ejected, true, 'target ejected');
  const during = place();
  for (let i = 0; i < keys.length; i++) {
    if (before[i] === '10.0.0.2') t.not(during[i], '10.0.0.2', 'its keys moved');
    else if (during[i] !== before[i]) t.fail(`key ${keys[i]} moved from ${before[i]} to ${during[i]}`);
  }
});

t.test('consistent hash on a cookie and on the client address; no key → still balanced', async (t) => {
  const byCookie = new Upstream(upstreamConfig({ targets: targets(1, 1, 1), balancer: { algorithm: 'consistent-hash', hashOn: { cookie: 'sid' } } }));
  const a1 = host(byCookie.begin(ctx([['cookie', 'theme=dark; sid=abc123; x=1']])));
  for (let i = 0; i < 10; i++) t.equal(host(byCookie.begin(ctx([['cookie', `n=${i}; sid=abc123`]]))), a1, 'same sid → same target');
  const spread = new Set(Array.from({ length: 6 }, () => host(byCookie.begin(ctx()))));
  t.equal(spread.size, 3, 'requests without the cookie go round robin');
  const byAddr = new Upstream(upstreamConfig({ targets: targets(1, 1, 1), balancer: { algorithm: 'consistent-hash', hashOn: { clientAddress: true } } }));
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) seen.add(`${i % 3}:${host(byAddr.begin(ctx([], `198.51.100.${i % 3}`)))}`);
  t.equal(seen.size, 3, 'each client address maps to one target');
});

t.test('cookie parsing: exact names only, no regex', async (t) => {
  t.equal(cookieValue('a=1; sid=x; b=2', 'sid'), 'x');
  t.equal(cookieValue('xsid=1; sid=2', 'sid'), '2');
  t.equal(cookieValue('sid=', 'sid'), null);
  t.equal(cookieValue('other=1', 'sid'), null);
  t.equal(cookieValue(';;; sid=v', 'sid'), 'v');
});

t.test('schema: consistent-hash needs hashOn; weights bounded; TLS cert needs a key', async (t) => {
  t.throws(() => upstreamConfig({ targets: targets(1), balancer: { algorithm: 'consistent-hash' } }), /hashOn/);
  t.throws(() => upstreamConfig({ targets: [{ url: 'http://a:1', weight: 0 }] }), /weight/);
  t.throws(() => upstreamConfig({ targets: [{ url: 'https://a:1' }], tls: { cert: { file: '/nonexistent' } } }), /key/);
  t.throws(() => upstreamConfig({ targets: [{ url: 'https://a:1' }], tls: { ca: { file: '/nonexistent/ca.pem' } } }), /upstreams\[0\]\.tls: cannot read secret file/);
  const d = upstreamConfig({ targets: targets(1) });
  t.equal(d.balancer.algorithm, 'round-robin');
  t.equal(d.retries.attempts, 1);
  t.equal(d.circuitBreaker.enabled, true);
  t.equal(d.outlierDetection.consecutiveConnectFailures, 3);
});

t.test('passive ejection: consecutive connect failures eject, capped share, all down → null', async (t) => {
  const u = new Upstream(upstreamConfig({ targets: targets(1, 1, 1, 1), outlierDetection: { consecutiveConnectFailures: 2, maxEjectedPercent: 50 } }));
  for (const target of u.targets) {
    for (let i = 0; i < 2; i++) {
      target.inFlight++;
      u.end({ target, probe: false }, connectFailure);
    }
  }
  t.same(u.health().map((h) => h.ejected), [true, true, false, false], 'at most 50% ejected');
  const one = new Upstream(upstreamConfig({ targets: targets(1), outlierDetection: { consecutiveConnectFailures: 1 } }));
  const a = one.begin(ctx())!;
  one.end(a, connectFailure);
  t.equal(one.begin(ctx()), null, 'the only target ejected: no target, at once');
  t.equal(one.health()[0].inFlight, 0, 'nothing left in flight');
});

t.test('5xx answers: consecutive ones eject, a success in between resets the count', async (t) => {
  const u = new Upstream(upstreamConfig({ targets: targets(1, 1), outlierDetection: { consecutive5xx: 3 }, circuitBreaker: { enabled: false } }));
  const target = u.targets[0];
  const send = (status: number) => {
    target.inFlight++;
    u.end({ target, probe: false }, { status });
  };
  send(500);
  send(500);
  send(200);
  send(500);
  send(503);
  t.equal(u.health()[0].ejected, false, 'not three in a row');
  send(502);
  t.equal(u.health()[0].ejected, true, 'three in a row: ejected');
});

t.test('circuit breaker: opens on the failure ratio after minRequests, half-open probe, closes on success', async (t) => {
  const changes: CircuitState[] = [];
  const cb = new CircuitBreaker({ enabled: true, failureRatio: 0.5, minRequests: 10, windowMs: 10_000, openMs: 1000, halfOpenRequests: 1 }, (s) => changes.push(s));
  let now = 1_000_000;
  for (let i = 0; i < 8; i++) cb.onResult(now, i % 2 === 0, false);
  t.equal(cb.state(now), 'closed', 'under minRequests: stays closed at 50%');
  cb.onResult(now, false, false);
  cb.onResult(now, true, false);
  t.equal(cb.state(now), 'open', '5 of 10 failed: open');
  t.notOk(cb.allows(now + 999), 'open: nothing passes');
  now += 1000;
  t.ok(cb.allows(now), 'after openMs: a probe may pass');
  t.equal(cb.onDispatch(), true, 'it is a probe');
  t.notOk(cb.allows(now), 'one probe at a time');
  cb.onResult(now, true, true);
  t.equal(cb.state(now), 'open', 'probe failed: open again');
  now += 1000;
  t.ok(cb.allows(now));
  cb.onDispatch();
  cb.onResult(now, false, true);
  t.equal(cb.state(now), 'closed', 'probe succeeded: closed');
  t.same(changes, ['open', 'half-open', 'open', 'half-open', 'closed']);
  // A probe whose client went away says nothing: the circuit stays half-open and frees the slot.
  const cb2 = new CircuitBreaker({ enabled: true, failureRatio: 0.5, minRequests: 1, windowMs: 10_000, openMs: 1000, halfOpenRequests: 1 }, () => {});
  cb2.onResult(now, true, false);
  t.ok(cb2.allows(now + 1000) && cb2.onDispatch(), 'probe sent');
  cb2.release(true);
  t.equal(cb2.state(now + 1000), 'half-open', 'an abandoned probe neither closes nor opens');
  t.ok(cb2.allows(now + 1000), 'and its slot is free again');
  // The window slides: old failures are forgotten.
  for (let i = 0; i < 9; i++) cb.onResult(now, true, false);
  now += 11_000;
  cb.onResult(now, true, false);
  t.equal(cb.state(now), 'closed', 'failures older than the window do not count');
});

t.test('retry budget: 20% of requests plus the floor, over the window', async (t) => {
  const b = new RetryBudget({ attempts: 1, budgetRatio: 0.2, budgetMinRetries: 3, budgetWindowMs: 10_000 });
  const now = 5_000_000;
  for (let i = 0; i < 100; i++) b.onRequest(now);
  let granted = 0;
  for (let i = 0; i < 100; i++) if (b.tryRetry(now)) granted++;
  t.equal(granted, 23, '3 + 20% of 100');
  t.ok(b.tryRetry(now + 11_000), 'a new window has budget again');
});

t.test('retries: attempts and budget per upstream', async (t) => {
  const u = new Upstream(upstreamConfig({ targets: targets(1, 1), retries: { attempts: 2, budgetMinRetries: 1, budgetRatio: 0 } }));
  t.ok(u.mayRetry(1), 'first retry allowed');
  t.notOk(u.mayRetry(1), 'budget of one spent');
  const v = new Upstream(upstreamConfig({ targets: targets(1, 1), retries: { attempts: 1 } }));
  t.notOk(v.mayRetry(2), 'no attempts left');
});

t.test('begin with tried targets skips them; none left → null', async (t) => {
  const u = new Upstream(upstreamConfig({ targets: targets(1, 1) }));
  const a = u.begin(ctx())!;
  const b = u.begin(ctx(), [a.target])!;
  t.not(b.target, a.target);
  t.equal(u.begin(ctx(), [a.target, b.target]), null);
});

t.test('ejection time doubles with each ejection in a row, capped, and falls back to the base', async (t) => {
  const o = new OutlierDetector({ consecutive5xx: 1, consecutiveConnectFailures: 1, baseEjectionMs: 1000, maxEjectionMs: 5000, maxEjectedPercent: 100 });
  let now = 1_000_000;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    times.push(o.eject(now));
    t.ok(o.isEjected(now + times[i] - 1), 'ejected for its time');
    now += times[i];
    t.notOk(o.isEjected(now), 'back when the time is up');
  }
  t.same(times, [1000, 2000, 4000, 5000, 5000], 'doubling up to maxEjectionMs');
  now += 5000; // maxEjectionMs without an ejection
  t.equal(o.eject(now), 1000, 'back to the base');
});

t.test('counters for #7: retries, denied retries, no target, ejections, circuit changes', async (t) => {
  const metrics = new Metrics();
  const u = new Upstream(
    upstreamConfig({
      targets: targets(1, 1),
      outlierDetection: { consecutiveConnectFailures: 1, maxEjectedPercent: 100 },
      circuitBreaker: { minRequests: 1, failureRatio: 0.5 },
      retries: { attempts: 1, budgetMinRetries: 1, budgetRatio: 0 },
    }),
    { metrics },
  );
  u.mayRetry(1);
  u.mayRetry(1);
  const a = u.begin(ctx())!;
  u.end(a, { status: 503 });
  const b = u.begin(ctx())!;
  u.end(b, connectFailure);
  const snap = metrics.snapshot();
  const value = (name: string, labels: string[]) => snap.counters[name]?.series.find(([l]) => l.join() === labels.join())?.[1];
  t.equal(value('ztgate_upstream_retries_total', ['u']), 1);
  t.equal(value('ztgate_upstream_retries_denied_total', ['u']), 1);
  t.equal(value('ztgate_upstream_circuit_transitions_total', ['u', a.target.url, 'open']), 1, 'a 503 opened its circuit');
  t.equal(value('ztgate_upstream_ejections_total', ['u', b.target.url]), 1, 'a connect failure ejected the other');
  t.equal(u.begin(ctx()), null, 'nothing left');
  t.equal(metrics.snapshot().counters.ztgate_upstream_unavailable_total.series[0][1], 1, 'counted');
  t.same(
    u.health().map((h) => [h.circuit, h.ejected, h.inFlight]),
    [
      ['open', false, 0],
      ['open', true, 0],
    ],
    'health() reports both (the connect failure also counted for its circuit)',
  );
});
