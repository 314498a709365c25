import t from 'tap';
import { Metrics, OTHER, addHistogramData, newHistogram } from '../../src/core/metrics.js';

t.test('histogram snapshots carry exact bucket counts, and are not taken again while unchanged', async (t) => {
  const m = new Metrics();
  const h = m.histogram('lat_us', 'test', ['route']);
  const values = [0.001, 0.5, 1, 1, 2.5, 40, 999, 120_000];
  for (const ms of values) h.recordMs(['a'], ms);
  const first = m.snapshot().histograms.lat_us.series[0][1];
  const back = newHistogram();
  addHistogramData(back, first);
  t.equal(back.totalCount, values.length);
  const direct = newHistogram();
  for (const ms of values) direct.recordValue(Math.max(1, Math.round(ms * 1000)));
  for (const p of [10, 50, 90, 99, 100]) t.equal(back.getValueAtPercentile(p), direct.getValueAtPercentile(p), `p${p} the same after the trip`);
  t.equal(m.snapshot().histograms.lat_us.series[0][1], first, 'unchanged: the same data, not walked again');
  h.recordMs(['a'], 3);
  t.not(m.snapshot().histograms.lat_us.series[0][1], first, 'changed: taken again');
});

t.test('families are bounded: label sets past the cap count under _other', async (t) => {
  const m = new Metrics(3);
  const c = m.counter('c_total', 'test', ['who']);
  for (let i = 0; i < 10; i++) c.inc([`client-${i}`]);
  const series = m.snapshot().counters.c_total.series;
  t.equal(series.length, 4, 'three label sets and _other');
  t.same(series.find(([l]) => l[0] === OTHER)?.[1], 7);
});
