import t from 'tap';
import { harness, prng, record, alertsSection } from './anomaly-helpers.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** One second of a consumer's ordinary traffic: 5–15 requests, now and then a 2.5× burst. */
function ordinarySecond(rnd: () => number): number {
  return rnd() < 0.02 ? 25 : 5 + Math.floor(rnd() * 11);
}

t.test('spike per consumer: a baseline, then 15× the rate → one alert for the incident, none for the others', async (t) => {
  const h = harness({ halfLifeMs: MINUTE, warmupMs: MINUTE, cooldownMs: 10 * MINUTE, rules: [{ name: 'consumer-spike', kind: 'spike', per: 'consumer', factor: 4, minRate: 20 }] });
  const rnd = prng(1);
  const second = (alice: number) => {
    const bob = 1 + Math.floor(rnd() * 5);
    h.feed(alice + bob, SECOND, (i) => record({ consumer: i < alice ? 'alice' : 'bob' }));
  };
  for (let s = 0; s < 180; s++) second(ordinarySecond(rnd));
  t.equal(h.alerts().length, 0, 'three minutes of ordinary traffic: no alert');
  for (let s = 0; s < 30; s++) second(150);
  t.equal(h.alerts().length, 1, 'thirty seconds at 150/s: one alert, not thirty');
  const line = h.alerts()[0];
  t.match(line, { level: 40, alert: 'spike', rule: 'consumer-spike', subject: 'consumer:alice', unit: 'req/s', action: null });
  t.ok((line.observed as number) >= 40 && (line.baseline as number) > 5 && (line.baseline as number) < 20, `observed ${line.observed} vs baseline ${line.baseline}`);
  t.match(line.msg, /^anomaly alert: spike on consumer:alice: \d+ req\/s vs baseline [\d.]+ \(threshold [\d.]+\) \[rule consumer-spike\]$/);
  t.equal(h.counter('spike', 'consumer-spike'), 1, 'ztgate_alerts_total{kind="spike",rule="consumer-spike"}');
  t.match(h.ipc, [{ type: 'alert', kind: 'spike', subject: 'consumer:alice', detail: /^spike on consumer:alice: /, time: Number }]);
  const attackStart = h.clock.now - 30 * SECOND;
  t.ok((h.ipc[0] as { time: number }).time < attackStart + SECOND, 'raised within the first second of the spike');
  for (let s = 0; s < 600; s++) second(ordinarySecond(rnd));
  for (let s = 0; s < 10; s++) second(150);
  t.equal(h.alerts().length, 2, 'after the cooldown, a new incident alerts again');
});

t.test('spike: ordinary noisy traffic for an hour fires nothing; a newcomer is not judged during its warm-up', async (t) => {
  const h = harness({ halfLifeMs: MINUTE, warmupMs: MINUTE, rules: [{ name: 'consumer-spike', kind: 'spike', per: 'consumer', factor: 4, minRate: 20 }] });
  const rnd = prng(2);
  for (let s = 0; s < 3600; s++) {
    const a = ordinarySecond(rnd);
    const b = ordinarySecond(rnd);
    h.feed(a + b, SECOND, (i) => record({ consumer: i < a ? 'alice' : 'bob' }));
  }
  t.equal(h.alerts().length, 0);
  for (let s = 0; s < 30; s++) h.feed(300, SECOND, () => record({ consumer: 'carol' }));
  t.equal(h.alerts().length, 0, 'carol starts at 300/s: that is her baseline, not a spike');
});

t.test('spike per route with tighten: the network is tightened by the factor for the period', async (t) => {
  const h = harness({
    halfLifeMs: MINUTE,
    warmupMs: MINUTE,
    rules: [{ name: 'net-spike', kind: 'spike', per: 'network', factor: 4, minRate: 20, action: { type: 'tighten', factor: 5, durationMs: 5 * MINUTE } }],
  });
  const rnd = prng(3);
  for (let s = 0; s < 120; s++) h.feed(ordinarySecond(rnd), SECOND, (i) => record({ clientAddress: `198.51.100.${1 + (i % 50)}` }));
  for (let s = 0; s < 5; s++) h.feed(200, SECOND, (i) => record({ clientAddress: `198.51.100.${1 + (i % 50)}` }));
  t.match(h.alerts(), [{ subject: 'network:198.51.100.0/24', action: 'tighten' }]);
  t.equal(h.sanctions.tightenFactor(null, '198.51.100.77'), 5, 'every address of the network');
  t.equal(h.sanctions.tightenFactor('someone', '198.51.100.77'), 5);
  t.equal(h.sanctions.tightenFactor(null, '198.51.101.1'), 1, 'the next network is not touched');
  t.equal(h.sanctions.blockedAddress('198.51.100.77'), null, 'tightened, not blocked');
  h.clock.now += 5 * MINUTE;
  t.equal(h.sanctions.tightenFactor(null, '198.51.100.77'), 1, 'expired');
  t.equal(h.sanctions.size, 0, 'and dropped');
});

t.test('errors per route: 2% 5xx is the baseline, 60% is an alert (once), 4xx is not an error', async (t) => {
  const h = harness({ halfLifeMs: 5 * MINUTE, warmupMs: MINUTE, rules: [{ name: 'route-errors', kind: 'errors', per: 'route', factor: 3, minRatio: 0.2 }] });
  const rnd = prng(4);
  const statusOf = (errorRatio: number) => (rnd() < errorRatio ? 502 : rnd() < 0.1 ? 404 : 200);
  for (let s = 0; s < 20 * 60; s++) {
    const ratio = rnd() < 0.01 ? 0.08 : 0.02; // now and then a worse second
    h.feed(50, SECOND, () => record({ status: statusOf(ratio) }));
  }
  t.equal(h.alerts().length, 0, 'twenty minutes of ordinary errors: no alert');
  for (let s = 0; s < 60; s++) h.feed(50, SECOND, () => record({ status: statusOf(0.6) }));
  t.match(h.alerts(), [{ alert: 'errors', subject: 'route:api', unit: '5xx ratio' }]);
  const a = h.alerts()[0];
  t.ok((a.observed as number) >= 0.2 && (a.baseline as number) < 0.05, `observed ${a.observed} vs baseline ${a.baseline}`);
  for (let s = 0; s < 60; s++) h.feed(50, SECOND, () => record({ status: 0 }));
  t.equal(h.alerts().length, 1, 'clients going away (status 0) are not errors');
});

t.test('latency per route: p90 of 30–60 ms is the baseline; half the requests at 800 ms alert once', async (t) => {
  const h = harness({ halfLifeMs: 5 * MINUTE, warmupMs: MINUTE, rules: [{ name: 'slow', kind: 'latency', per: 'route', measure: 'upstream', factor: 3, minMs: 100 }] });
  const rnd = prng(5);
  const ms = (slow: number) => (rnd() < slow ? 800 + rnd() * 200 : rnd() < 0.05 ? 150 : 30 + rnd() * 30);
  for (let s = 0; s < 30 * 60; s++) h.feed(40, SECOND, () => {
    const u = ms(0);
    return record({ upstreamMs: u, totalMs: u + 1 });
  });
  t.equal(h.alerts().length, 0, 'thirty minutes of ordinary latency with a 5% tail: no alert');
  for (let s = 0; s < 60; s++) h.feed(40, SECOND, () => {
    const u = ms(0.5);
    return record({ upstreamMs: u, totalMs: u + 1 });
  });
  t.match(h.alerts(), [{ alert: 'latency', subject: 'route:api', unit: 'ms p90' }]);
  const a = h.alerts()[0];
  t.ok((a.observed as number) >= 800 && (a.baseline as number) < 100, `observed ${a.observed} vs baseline ${a.baseline}`);
  for (let s = 0; s < 60; s++) h.feed(40, SECOND, () => record({ status: 403, code: 'ZTG_FORBIDDEN', upstreamMs: null, totalMs: 5000 }));
  t.equal(h.alerts().length, 1, 'refusals (nothing forwarded) do not count');
});

t.test('auth-failures: credential stuffing from one /24 → one alert and a block of that network; typos elsewhere → none', async (t) => {
  const h = harness({ cooldownMs: 10 * MINUTE, rules: [{ name: 'stuffing', kind: 'auth-failures', threshold: 30, action: { type: 'block', durationMs: 5 * MINUTE } }] });
  const rnd = prng(6);
  // 200 client networks, each mistyping a password now and then (about one failure per network per two minutes).
  const ordinary = () =>
    h.feed(100, SECOND, (i) => {
      const address = `10.${i % 200}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`;
      const fail = rnd() < 0.008;
      return record({ clientAddress: address, status: fail ? 401 : 200, code: fail ? 'ZTG_UNAUTHENTICATED' : null, consumer: fail ? null : `c${i % 200}` });
    });
  for (let s = 0; s < 30 * 60; s++) ordinary();
  t.equal(h.alerts().length, 0, 'thirty minutes of ordinary failures: no alert');
  for (let s = 0; s < 60; s++) {
    ordinary();
    h.clock.now -= SECOND;
    h.feed(5, SECOND, (i) =>
      record({ clientAddress: `203.0.113.${1 + Math.floor(rnd() * 254)}`, status: i % 2 ? 403 : 401, code: i % 2 ? 'ZTG_FORBIDDEN' : 'ZTG_UNAUTHENTICATED' }),
    );
  }
  t.match(h.alerts(), [{ alert: 'auth-failures', rule: 'stuffing', subject: 'network:203.0.113.0/24', threshold: 30, action: 'block' }]);
  t.match(h.sanctions.blockedAddress('203.0.113.250'), { subject: 'network:203.0.113.0/24', rule: 'stuffing' });
  t.equal(h.sanctions.blockedAddress('203.0.112.1'), null, 'the neighbour network is not blocked');
  t.equal(h.sanctions.blockedConsumer('c1'), null);
  // What a blocked network gets is ZTG_BLOCKED: not an identity failure, so no loop of alerts.
  for (let s = 0; s < 20 * 60; s++) h.feed(5, SECOND, () => record({ clientAddress: '203.0.113.9', status: 403, code: 'ZTG_BLOCKED' }));
  t.equal(h.alerts().length, 1);
  t.equal(h.sanctions.blockedAddress('203.0.113.250'), null, 'the block expired');
});

t.test('not-found: an IPv6 scanner rotating addresses in its /48 → one alert; scattered 404s → none', async (t) => {
  const h = harness({ rules: [{ name: 'scan', kind: 'not-found', threshold: 50 }] });
  const rnd = prng(7);
  const ordinary = () =>
    h.feed(60, SECOND, (i) => record({ clientAddress: `2001:db8:${(i % 30).toString(16)}::${(1 + Math.floor(rnd() * 0xfff)).toString(16)}`, status: rnd() < 0.02 ? 404 : 200 }));
  for (let s = 0; s < 30 * 60; s++) ordinary();
  t.equal(h.alerts().length, 0, '2% 404s across 30 networks: no alert');
  for (let s = 0; s < 60; s++) {
    ordinary();
    h.clock.now -= SECOND;
    h.feed(20, SECOND, () => record({ route: '', clientAddress: `2001:db8:bad:${Math.floor(rnd() * 0xffff).toString(16)}::1`, status: 404, code: 'ZTG_ROUTE_NOT_FOUND' }));
  }
  t.match(h.alerts(), [{ alert: 'not-found', subject: 'network:2001:db8:bad::/48', threshold: 50 }]);
  t.equal(h.alerts().length, 1);
});

t.test('new-network: a consumer from a /24 it never used, after its warm-up → one alert (cooldown covers the next)', async (t) => {
  const h = harness({ warmupMs: 60 * MINUTE, cooldownMs: 30 * MINUTE, rules: [{ name: 'new-net', kind: 'new-network' }] });
  const rnd = prng(8);
  const usual = () =>
    h.feed(20, SECOND, (i) =>
      i % 2 ? record({ consumer: 'alice', clientAddress: `10.1.${1 + (i % 4 >> 1)}.${1 + Math.floor(rnd() * 254)}` }) : record({ consumer: 'bob', clientAddress: `2001:db8:b0b::${Math.floor(rnd() * 999)}` }),
    );
  for (let s = 0; s < 2 * 3600; s++) usual();
  t.equal(h.alerts().length, 0, 'two hours from the usual networks: no alert');
  h.feed(3, SECOND, () => record({ consumer: 'alice', clientAddress: '198.51.100.23' }));
  t.match(h.alerts(), [{ alert: 'new-network', subject: 'consumer:alice', observed: '198.51.100.0/24', baseline: /10\.1\.1\.0\/24/, unit: 'network' }]);
  h.feed(3, SECOND, () => record({ consumer: 'alice', clientAddress: '192.0.2.5' }));
  t.equal(h.alerts().length, 1, 'a second new network within the cooldown: learnt, not alerted');
  for (let s = 0; s < 60; s++) usual();
  h.feed(1, SECOND, () => record({ consumer: 'alice', clientAddress: '198.51.100.99' }));
  t.equal(h.alerts().length, 1, 'the new network is known now');
});

t.test('new-region: regions from the CIDR table; a new network in a known region is not a new region', async (t) => {
  const h = harness({
    warmupMs: 60 * MINUTE,
    cooldownMs: MINUTE,
    regions: [
      { name: 'office', cidrs: ['10.0.0.0/8'] },
      { name: 'eu', cidrs: ['198.51.100.0/24', '2001:db8:e0::/44'] },
    ],
    rules: [{ name: 'new-region', kind: 'new-region' }],
  });
  for (let s = 0; s < 3600; s++) h.feed(2, SECOND, (i) => record({ consumer: 'alice', clientAddress: `10.0.${i}.7` }));
  h.feed(1, SECOND, () => record({ consumer: 'alice', clientAddress: '10.200.3.4' }));
  t.equal(h.alerts().length, 0, 'another office network: same region');
  h.feed(1, SECOND, () => record({ consumer: 'alice', clientAddress: '2001:db8:e1::9' }));
  t.match(h.alerts(), [{ alert: 'new-region', subject: 'consumer:alice', observed: 'eu', baseline: 'office', unit: 'region' }]);
  h.clock.now += 2 * MINUTE;
  h.feed(1, SECOND, () => record({ consumer: 'alice', clientAddress: '203.0.113.9' }));
  t.match(h.alerts()[1], { observed: 'unknown', baseline: 'office, eu' }, 'outside every region: "unknown", a region of its own');
});

t.test('hostile records: odd addresses, names and values never throw or alert, and detection goes on', async (t) => {
  const h = harness({
    warmupMs: MINUTE,
    regions: [{ name: 'office', cidrs: ['10.0.0.0/8'] }],
    rules: [
      { name: 'scan', kind: 'not-found', threshold: 5 },
      { name: 'stuffing', kind: 'auth-failures', threshold: 5 },
      { name: 'spike', kind: 'spike', per: 'network' },
      { name: 'new-net', kind: 'new-network' },
      { name: 'new-region', kind: 'new-region' },
      { name: 'slow', kind: 'latency', per: 'consumer' },
    ],
  });
  const odd = ['', 'not-an-ip', 'x'.repeat(100_000), '::ffff:999.1.1.1', '1.2.3.4\n', '%', '__proto__', 'constructor'];
  for (const a of odd) {
    for (let i = 0; i < 20; i++) {
      h.detector.observe(record({ clientAddress: a, status: 404, code: 'ZTG_UNAUTHENTICATED', consumer: a, totalMs: Number.NaN, upstreamMs: -1 }));
      h.detector.observe(record({ clientAddress: a, consumer: '__proto__', totalMs: Infinity, upstreamMs: Infinity }));
    }
  }
  t.equal(h.alerts().length, 0, 'nothing is an address, so no network rule counts');
  t.equal(h.lines.filter((l) => l.level === 50).length, 0, 'and nothing failed');
  for (let i = 0; i < 5; i++) h.detector.observe(record({ clientAddress: '198.51.100.1', status: 404 }));
  t.match(h.alerts(), [{ alert: 'not-found', subject: 'network:198.51.100.0/24' }], 'a real scan afterwards still alerts');
});

t.test('maxAlertsPerMinute: a storm of incidents is counted in full, sent in part, summed up in one line', async (t) => {
  const h = harness({ maxAlertsPerMinute: 2, rules: [{ name: 'scan', kind: 'not-found', threshold: 1 }] });
  h.feed(10, 10 * SECOND, (i) => record({ clientAddress: `192.0.2.${i}`.replace('192.0.2', `10.0.${i}`), status: 404 }));
  t.equal(h.counter('not-found', 'scan'), 10, 'every alert counted');
  t.equal(h.alerts().length, 2, 'two sent to the log');
  t.equal(h.ipc.length, 2, 'and to the supervisor');
  const suppressed = h.metrics.snapshot().counters.ztgate_alerts_suppressed_total.series;
  t.same(suppressed, [[['not-found', 'scan'], 8]]);
  h.clock.now += MINUTE;
  h.feed(1, SECOND, () => record({ clientAddress: '10.9.9.9', status: 404 }));
  t.ok(h.lines.some((l) => l.suppressed === 8 && /8 anomaly alerts over maxAlertsPerMinute/.test(l.msg as string)), 'one summary line');
  t.equal(h.alerts().length, 3, 'a new minute sends again');
});

t.test('tables are bounded by maxKeys whatever the traffic', async (t) => {
  const h = harness({ maxKeys: 1000, rules: [{ name: 'spike', kind: 'spike', per: 'consumer' }, { name: 'scan', kind: 'not-found' }] });
  h.feed(20_000, MINUTE, (i) => record({ consumer: `c${i}`, clientAddress: `10.${i >> 8 & 255}.${i & 255}.1`, status: 404 }));
  t.same(h.detector.sizes(), { spike: 1000, scan: 1000 });
});

t.test('reconfigure: the same section keeps baselines; a changed one starts over', async (t) => {
  const section = { rules: [{ name: 'scan', kind: 'not-found', threshold: 3 }] };
  const h = harness(section);
  h.feed(2, SECOND, () => record({ status: 404 }));
  h.detector.reconfigure(alertsSection(section));
  t.same(h.detector.sizes(), { scan: 1 }, 'unchanged: kept');
  h.feed(1, SECOND, () => record({ status: 404 }));
  t.equal(h.alerts().length, 1, 'the count went on across the no-op reload');
  h.detector.reconfigure(alertsSection({ rules: [{ name: 'scan2', kind: 'not-found', threshold: 3 }] }));
  t.same(h.detector.sizes(), { scan2: 0 }, 'changed: rebuilt');
  t.ok(h.lines.some((l) => l.msg === 'anomaly rules reloaded; baselines start over'));
  const broken = alertsSection({ rules: [{ name: 'scan3', kind: 'not-found' }] });
  broken.webhooks = [{ url: 'http://127.0.0.1:1/', secret: { env: 'ZTG_TEST_NEVER_SET' }, attempts: 1, backoffMs: 1, timeoutMs: 1, maxQueued: 1 }];
  t.doesNotThrow(() => h.detector.reconfigure(broken), 'a section that cannot be built does not throw into the reload');
  t.same(h.detector.sizes(), { scan2: 0 }, 'the previous rules keep running');
  t.ok(h.lines.some((l) => l.level === 50 && l.msg === 'anomaly rules not reloaded; the previous ones keep running'));
});

t.test('config: strict per kind, cross-checked, defaults filled', async (t) => {
  const a = alertsSection({ rules: [{ name: 's', kind: 'spike', per: 'route' }, { name: 'n', kind: 'new-network' }] });
  t.match(a, { halfLifeMs: 600_000, warmupMs: 600_000, cooldownMs: 600_000, maxKeys: 10_000, maxAlertsPerMinute: 60, regions: [], webhooks: [] });
  t.match(a.rules[0], { factor: 4, minRate: 10, windowMs: 1000 }, 'kind defaults inside if/then');
  t.same(alertsSection({}).rules, [], 'no section: no rules');
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ rules: [{ name: 's', kind: 'spike', per: 'route', threshold: 3 }] }, /unknown field "threshold"/],
    [{ rules: [{ name: 's', kind: 'spike' }] }, /missing field "per"/],
    [{ rules: [{ name: 's', kind: 'surge', per: 'route' }] }, /"surge" is not one of/],
    [{ rules: [{ name: 'a', kind: 'not-found' }, { name: 'a', kind: 'auth-failures' }] }, /"a" is already used/],
    [{ rules: [{ name: 's', kind: 'spike', per: 'route', action: { type: 'block', durationMs: 1000 } }] }, /a route cannot be blocked/],
    [{ rules: [{ name: 's', kind: 'spike', per: 'consumer', action: { type: 'tighten', durationMs: 1000 } }] }, /factor/],
    [{ rules: [{ name: 'r', kind: 'new-region' }] }, /needs alerts.regions/],
    [{ regions: [{ name: 'x', cidrs: ['10.0.0.0/33'] }] }, /invalid prefix length/],
    [{ regions: [{ name: 'x', cidrs: ['10.0.0'] }] }, /not an IP address/],
    [{ webhooks: [{ url: 'http://127.0.0.1:1/', secret: { env: 'ZTG_TEST_UNSET_SECRET' } }] }, /ZTG_TEST_UNSET_SECRET is not set/],
    [{ webhooks: [{ url: 'http://127.0.0.1:1/', secret: 'inline' }] }, /secret/],
    [{ maxKeys: 10 }, /maxKeys/],
  ];
  for (const [alerts, message] of bad) t.throws(() => alertsSection(alerts), message, JSON.stringify(alerts));
});
