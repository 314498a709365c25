import t from 'tap';
import { Metrics } from '../../src/core/metrics.js';
import { isMetricsSnapshot, MetricsMerger } from '../../src/observe/metrics-merge.js';
import { escapeLabelValue, renderPrometheus } from '../../src/observe/prometheus.js';
import { LiveView } from '../../src/admin/live.js';
import { redactConfig, REDACTED } from '../../src/admin/redact.js';
import { configSchema } from '../../src/config/schema.js';
import { AlertRing, ALERT_RING_SIZE } from '../../src/admin/alerts.js';
import { parseExposition } from './exposition.js';

/** Two processes' registries, as the supervisor receives them. */
function twoProcesses() {
  const a = new Metrics();
  const b = new Metrics();
  for (const [m, n, ms] of [
    [a, 7, 1],
    [b, 5, 100],
  ] as const) {
    const requests = m.counter('ztgate_requests_total', 'Requests.', ['route', 'status']);
    const latency = m.histogram('ztgate_request_duration_us', 'Latency.', ['route']);
    for (let i = 0; i < n; i++) {
      requests.inc(['api', '200']);
      latency.recordMs(['api'], ms);
    }
  }
  return { a, b };
}

t.test('hostile label values and help text are escaped; the output parses', async (t) => {
  t.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const m = new Metrics();
  m.counter('ztgate_requests_total', 'Help with \\ and\nnewline.', ['route', 'status']).inc(['we"ird\\ro\nute', '200'], 3);
  m.gauge('ztgate_queue', 'Queue.', []).set([], 2);
  m.counter('no_suffix', 'A counter without _total.', []).inc([], 1);
  const merger = new MetricsMerger();
  merger.update(1, 0, m.snapshot());
  const text = renderPrometheus(merger.merged());
  const e = parseExposition(text);
  t.equal(e.get('ztgate_requests_total', { route: 'we"ird\\ro\nute', status: '200' }), 3, 'label value round-trips through escaping');
  t.equal(e.get('ztgate_queue', { process: '0' }), 2, 'gauges carry the process slot');
  t.equal(e.types.get('no_suffix_total'), 'counter', 'counters are exposed with _total');
  t.notOk(text.includes('\nnewline'), 'no raw newline from help text');
});

t.test('merging is exact: counters add, histograms add, exited processes stay in the totals', async (t) => {
  const { a, b } = twoProcesses();
  const merger = new MetricsMerger();
  merger.update(1, 0, a.snapshot());
  merger.update(2, 1, b.snapshot());
  let e = parseExposition(renderPrometheus(merger.merged()));
  t.equal(e.get('ztgate_requests_total', { route: 'api', status: '200' }), 12);
  t.equal(e.get('ztgate_request_duration_seconds_count', { route: 'api' }), 12);
  t.ok(Math.abs(e.get('ztgate_request_duration_seconds', { route: 'api', quantile: '0.5' })! - 0.001) <= 0.00001, 'median from the 7 fast ones (exported in seconds, within hdr precision)');
  t.ok(Math.abs(e.get('ztgate_request_duration_seconds', { route: 'api', quantile: '0.99' })! - 0.1) <= 0.001, 'p99 from the 5 slow ones, within hdr precision');

  merger.retire(1);
  e = parseExposition(renderPrometheus(merger.merged()));
  t.equal(e.get('ztgate_requests_total', { route: 'api', status: '200' }), 12, 'the exited process still counts');
  t.equal(e.get('ztgate_request_duration_seconds_count', { route: 'api' }), 12);

  // The restarted process starts from zero; totals keep growing.
  const c = new Metrics();
  c.counter('ztgate_requests_total', 'Requests.', ['route', 'status']).inc(['api', '200'], 2);
  merger.update(3, 0, c.snapshot());
  e = parseExposition(renderPrometheus(merger.merged()));
  t.equal(e.get('ztgate_requests_total', { route: 'api', status: '200' }), 14);
});

t.test('live windows are differences of cumulative snapshots', async (t) => {
  const { a } = twoProcesses();
  const merger = new MetricsMerger();
  const live = new LiveView();
  merger.update(1, 0, a.snapshot());
  t.equal(live.tick(merger.merged(), 1000), null, 'first tick sets the baseline');
  a.counter('ztgate_requests_total', 'Requests.', ['route', 'status']).inc(['api', '503'], 4);
  a.histogram('ztgate_gateway_duration_us', 'Gateway.', ['route']).recordMs(['api'], 2);
  merger.update(1, 0, a.snapshot());
  const w = live.tick(merger.merged(), 3000)!;
  t.equal(w.requests, 4);
  t.equal(w.rps, 2, '4 requests over 2 seconds');
  t.equal(w.status['5xx'], 4);
  t.equal(w.latency.gateway?.count, 1);
  t.equal(w.latency.total, null, 'nothing new in the total histogram');
  t.same(w.topRoutes, [['api', 4]]);
});

t.test('snapshots of the wrong shape are refused', async (t) => {
  t.notOk(isMetricsSnapshot(null));
  t.notOk(isMetricsSnapshot({ counters: {}, gauges: {} }));
  t.notOk(isMetricsSnapshot({ counters: { x: { labels: 'a', series: [] } }, gauges: {}, histograms: {} }));
  t.ok(isMetricsSnapshot(new Metrics().snapshot()));
});

t.test('config redaction by the schema: secret refs and writeOnly values hidden, settings shown; JWK private parts, URL passwords, webhook URLs', async (t) => {
  const out = JSON.stringify(
    redactConfig(
      {
        identity: { issuers: [{ name: 'i', issuer: 'https://id.example', hmacSecret: { env: 'HMAC_ENV' }, maxTokenAgeSec: 600 }] },
        listeners: [{ name: 'l', port: 1, tls: { certificates: [{ cert: '/c.pem', key: '/k.pem', passphrase: { file: '/etc/pass' } }] } }],
        routes: [
          {
            name: 'r',
            stages: [
              { type: 'headers', request: { set: { authorization: 'Bearer s3cr3t-inline', 'x-api-key': 'k3y-inline' } } },
              { type: 'rate-limit', limits: [{ rate: '1/s', key: ['header:x-tenant'] }] },
            ],
          },
        ],
        jwks: [{ kty: 'oct', k: 'symmetric-secret', kid: 'one' }],
        url: 'https://user:pa55word@example.com/x',
        alerts: { maxKeys: 5000, webhook: { url: 'https://hooks.example.com/services/T0/B0/hooksecret' } },
        plain: 'visible',
      },
      configSchema as Record<string, unknown>,
    ),
  );
  for (const secret of ['HMAC_ENV', '/etc/pass', 's3cr3t-inline', 'k3y-inline', 'symmetric-secret', 'pa55word', 'hooksecret']) {
    t.notOk(out.includes(secret), `${secret} is not shown`);
  }
  t.ok(out.includes(REDACTED));
  t.ok(out.includes('visible'), 'other values stay');
  for (const shown of ['"maxTokenAgeSec":600', '"key":["header:x-tenant"]', '"maxKeys":5000', '"kid":"one"']) t.ok(out.includes(shown), `${shown} is a setting: shown`);
  t.ok(out.includes('https://hooks.example.com/'), 'the webhook host stays');
});

t.test('alert ring: bounded, checked, cut to size', async (t) => {
  const ring = new AlertRing();
  t.equal(ring.push({ subject: 'x' }), null, 'no kind: not an alert');
  t.equal(ring.push('alert'), null);
  for (let i = 0; i < ALERT_RING_SIZE + 10; i++) ring.push({ kind: 'spike', subject: `s${i}`, detail: 'd'.repeat(1000), time: i });
  const list = ring.list();
  t.equal(list.length, ALERT_RING_SIZE);
  t.equal(list[0].subject, `s${ALERT_RING_SIZE + 9}`, 'newest first');
  t.ok(list[0].detail.length <= 257, 'detail cut');
});

t.test('exported in base units: *_us and *_ms families are written as *_seconds', async (t) => {
  const { exportedName } = await import('../../src/observe/prometheus.js');
  t.same(exportedName('ztgate_request_duration_us'), { name: 'ztgate_request_duration_seconds', scale: 1e-6 });
  t.same(exportedName('ztgate_event_loop_delay_ms'), { name: 'ztgate_event_loop_delay_seconds', scale: 1e-3 });
  t.same(exportedName('ztgate_requests_total'), { name: 'ztgate_requests_total', scale: 1 });
  t.same(exportedName('ztgate_memory_bytes'), { name: 'ztgate_memory_bytes', scale: 1 });
});
