import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { harness, record } from './anomaly-helpers.js';

/** The n-th distinct client: every one in its own network, half of them IPv6. */
function address(n: number): string {
  return n % 2 ? `2001:${(0xdb8 + (n >> 16)).toString(16)}:${(n & 0xffff).toString(16)}::1` : `${10 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.7`;
}

// 200,000 records through seven rules on a shared 2-core machine: more than the default minute.
t.setTimeout(240_000);

t.test('a hostile client rotating 100,000 addresses and consumers cannot grow memory past the bounds', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const maxKeys = 5000;
  const h = harness({
    maxKeys,
    warmupMs: 1000,
    maxAlertsPerMinute: 10,
    regions: [{ name: 'lab', cidrs: ['10.0.0.0/8'] }],
    rules: [
      { name: 'spike', kind: 'spike', per: 'network', minRate: 1 },
      { name: 'errors', kind: 'errors', per: 'consumer' },
      { name: 'slow', kind: 'latency', per: 'consumer' },
      { name: 'stuffing', kind: 'auth-failures', threshold: 1, action: { type: 'block', durationMs: 3_600_000 } },
      { name: 'scan', kind: 'not-found', threshold: 1, action: { type: 'tighten', factor: 2, durationMs: 3_600_000 } },
      { name: 'new-net', kind: 'new-network' },
      { name: 'new-region', kind: 'new-region' },
    ],
  });
  const round = (from: number, n: number) =>
    h.feed(n, n, (i) => {
      const n = from + i;
      const kind = n % 3;
      return record({
        clientAddress: address(n),
        consumer: kind === 0 ? `consumer-${n}` : null,
        status: kind === 1 ? 404 : kind === 2 ? 401 : 500,
        code: kind === 2 ? 'ZTG_UNAUTHENTICATED' : null,
      });
    });
  round(0, 100_000);
  gc();
  const afterFirst = process.memoryUsage().heapUsed;
  for (const [rule, size] of Object.entries(h.detector.sizes())) t.ok(size <= maxKeys, `${rule}: ${size} keys, at most ${maxKeys}`);
  t.ok(h.sanctions.size <= 10_000, `sanctions: ${h.sanctions.size}, at most 10,000`);
  t.ok(h.counter('auth-failures', 'stuffing') > 30_000 && h.counter('not-found', 'scan') > 30_000, 'every stuffing network alerted (and was counted)');
  t.ok(h.alerts().length <= 10 * 2, `the log got at most the per-minute cap: ${h.alerts().length} lines`);
  round(100_000, 50_000);
  gc();
  const growth = process.memoryUsage().heapUsed - afterFirst;
  t.ok(growth < 16 * 1024 * 1024, `50,000 more distinct clients added ${(growth / 1048576).toFixed(1)} MiB (tables already full)`);
  for (const [rule, size] of Object.entries(h.detector.sizes())) t.ok(size <= maxKeys, `${rule} still bounded: ${size}`);
  t.ok(h.sanctions.size <= 10_000, `sanctions still bounded: ${h.sanctions.size}`);
});
