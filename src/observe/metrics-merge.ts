import * as hdr from 'hdr-histogram-js';
import { addHistogramData, newHistogram, type FamilySnapshot, type HistogramData, type MetricsSnapshot } from '../core/metrics.js';

/**
 * The supervisor's view of every gateway process's metrics, merged exactly:
 * counters add, histograms add bucket by bucket. Each process sends its
 * cumulative snapshot; the latest one per process is kept. When a process
 * exits, its last counters and histograms move into a retired total, so a
 * restart never makes a counter go down. Gauges describe a live process only:
 * they are kept per process (label `process`, the slot) and dropped on exit.
 */

const SEP = '\u0001';

export interface MergedSeries<V> {
  readonly labels: readonly string[];
  value: V;
}

export interface MergedFamily<V> {
  readonly help: string;
  readonly labels: readonly string[];
  /** Keyed by the joined label values. */
  readonly series: Map<string, MergedSeries<V>>;
}

export interface MergedMetrics {
  readonly counters: Map<string, MergedFamily<number>>;
  readonly gauges: Map<string, MergedFamily<number>>;
  readonly histograms: Map<string, MergedFamily<hdr.Histogram>>;
}

/** Accumulators have the gateway processes' layout (64-bit buckets: merged counts of a long run pass 2^32). */
export function newAccumulator(): hdr.Histogram {
  return newHistogram();
}

export function emptyMerged(): MergedMetrics {
  return { counters: new Map(), gauges: new Map(), histograms: new Map() };
}

interface LiveProcess {
  slot: number;
  snapshot: MetricsSnapshot;
  /** Decoded histograms of `snapshot`, by family and series; reused while their total is unchanged. */
  decoded: Map<string, { total: number; histogram: hdr.Histogram }>;
}

export class MetricsMerger {
  private readonly live = new Map<number, LiveProcess>();
  private readonly retired = emptyMerged();

  /** Stores the latest cumulative snapshot of process `id` (a cluster worker id) in `slot`. */
  update(id: number, slot: number, snapshot: MetricsSnapshot): void {
    const previous = this.live.get(id)?.decoded;
    const decoded = new Map<string, { total: number; histogram: hdr.Histogram }>();
    for (const [name, family] of Object.entries(snapshot.histograms)) {
      for (const [labels, data] of family.series) {
        if (!isHistogramData(data)) continue;
        const key = name + SEP + labels.join(SEP);
        const known = previous?.get(key);
        if (known && known.total === data.total) {
          decoded.set(key, known);
          continue;
        }
        const histogram = newHistogram();
        addHistogramData(histogram, data);
        decoded.set(key, { total: data.total, histogram });
      }
    }
    this.live.set(id, { slot, snapshot, decoded });
  }

  /** The process exited: its counts stay in the totals, its gauges go. */
  retire(id: number): void {
    const p = this.live.get(id);
    if (!p) return;
    this.live.delete(id);
    addProcess(this.retired, p, false);
  }

  get processes(): number {
    return this.live.size;
  }

  /**
   * A fresh merge of the retired totals and every live process (the caller
   * owns the result). `histograms` limits which histogram families are
   * merged: adding hdr histograms is the costly part, and the live view
   * needs three families, not all of them.
   */
  merged(histograms?: ReadonlySet<string>): MergedMetrics {
    const out = emptyMerged();
    for (const [name, f] of this.retired.counters) {
      const fam = familyOf(out.counters, name, f.help, f.labels);
      for (const [k, s] of f.series) fam.series.set(k, { labels: s.labels, value: s.value });
    }
    for (const [name, f] of this.retired.histograms) {
      if (histograms && !histograms.has(name)) continue;
      const fam = familyOf(out.histograms, name, f.help, f.labels);
      for (const [k, s] of f.series) {
        const h = newAccumulator();
        h.add(s.value);
        fam.series.set(k, { labels: s.labels, value: h });
      }
    }
    for (const p of this.live.values()) addProcess(out, p, true, histograms);
    return out;
  }
}

function addProcess(into: MergedMetrics, p: LiveProcess, withGauges: boolean, histograms?: ReadonlySet<string>): void {
  for (const [name, f] of Object.entries(p.snapshot.counters)) {
    const fam = familyOf(into.counters, name, f.help, f.labels);
    for (const [labels, n] of f.series) {
      if (typeof n !== 'number' || !Number.isFinite(n)) continue;
      const s = seriesOf(fam, labels, () => 0);
      s.value += n;
    }
  }
  for (const [name, f] of Object.entries(p.snapshot.histograms)) {
    if (histograms && !histograms.has(name)) continue;
    const fam = familyOf(into.histograms, name, f.help, f.labels);
    for (const [labels] of f.series) {
      const decoded = p.decoded.get(name + SEP + labels.join(SEP));
      if (decoded) seriesOf(fam, labels, newAccumulator).value.add(decoded.histogram);
    }
  }
  if (!withGauges) return;
  for (const [name, f] of Object.entries(p.snapshot.gauges)) {
    const fam = familyOf(into.gauges, name, f.help, [...f.labels, 'process']);
    for (const [labels, v] of f.series) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      seriesOf(fam, [...labels, String(p.slot)], () => 0).value = v;
    }
  }
}

function familyOf<V>(map: Map<string, MergedFamily<V>>, name: string, help: string, labels: readonly string[]): MergedFamily<V> {
  let f = map.get(name);
  if (f === undefined) map.set(name, (f = { help, labels: [...labels], series: new Map() }));
  return f;
}

function seriesOf<V>(fam: MergedFamily<V>, labels: readonly string[], make: () => V): MergedSeries<V> {
  const key = labels.join(SEP);
  let s = fam.series.get(key);
  if (s === undefined) fam.series.set(key, (s = { labels: [...labels], value: make() }));
  return s;
}

function isHistogramData(x: unknown): x is HistogramData {
  const d = x as HistogramData;
  return typeof d === 'object' && d !== null && d.counts instanceof Float64Array && Number.isInteger(d.first) && d.first >= 0 && d.first + d.counts.length <= 4096;
}

/** Checks the shape of a snapshot that came over IPC before it is trusted. */
export function isMetricsSnapshot(x: unknown): x is MetricsSnapshot {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  return [s.counters, s.gauges, s.histograms].every(
    (group) =>
      typeof group === 'object' &&
      group !== null &&
      Object.values(group).every((f: FamilySnapshot<unknown>) => Array.isArray(f?.labels) && Array.isArray(f?.series)),
  );
}

/** Label value of `name` in a series of a family with `labels`, or '' when the family has no such label. */
export function labelOf(labels: readonly string[], values: readonly string[], name: string): string {
  const i = labels.indexOf(name);
  return i < 0 ? '' : (values[i] ?? '');
}
