import t from 'tap';
import { LiveView } from '../../src/admin/live.js';
import type { MergedMetrics } from '../../src/observe/metrics-merge.js';

/** /stats rates cover ten seconds of time, whatever the windows' length (1 s watched, 10 s otherwise). */

const empty: MergedMetrics = { counters: new Map(), gauges: new Map(), histograms: new Map() };

t.test('recent(10) over 10 s windows is one window, not ten', async (t) => {
  const live = new LiveView();
  for (let i = 0; i <= 12; i++) live.tick(empty, 1_000_000 + i * 10_000);
  t.equal(live.recent(10).seconds, 10);
});

t.test('recent(10) over 1 s windows is ten of them', async (t) => {
  const live = new LiveView();
  for (let i = 0; i <= 30; i++) live.tick(empty, 1_000_000 + i * 1000);
  t.equal(live.recent(10).seconds, 10);
});

t.test('fewer windows than asked: what there is', async (t) => {
  const live = new LiveView();
  for (let i = 0; i <= 3; i++) live.tick(empty, 1_000_000 + i * 1000);
  t.equal(live.recent(10).seconds, 3);
});
