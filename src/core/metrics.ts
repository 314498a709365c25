import * as hdr from 'hdr-histogram-js';

/**
 * The process's metrics: counters, gauges and latency histograms, each a
 * family of series keyed by label values. Everything is cumulative since the
 * process started, so a lost or late snapshot costs nothing and the
 * supervisor merges the processes' snapshots exactly (counters add,
 * histograms add bucket by bucket).
 *
 * Bounded: a family keeps at most `maxSeries` label combinations; later ones
 * are counted under the label value "_other" (a hostile client can vary
 * what it sends, never the number of series).
 */

export const OTHER = '_other';
const SEP = '\u0001';

/**
 * Latency histograms hold microseconds, from 1 µs to 10 minutes, 2 significant digits, in 64-bit
 * buckets (32 bits overflow after days of traffic in one bucket). JS, not WebAssembly: the bucket
 * walk below uses JsHistogram's index API.
 */
export const HISTOGRAM_LAYOUT = {
  lowestDiscernibleValue: 1,
  highestTrackableValue: 600_000_000,
  numberOfSignificantValueDigits: 2,
  bitBucketSize: 64,
  autoResize: false,
  useWebAssembly: false,
} as const;

export function newHistogram(): hdr.JsHistogram {
  return hdr.build(HISTOGRAM_LAYOUT) as hdr.JsHistogram;
}

/**
 * A histogram as it crosses IPC: the counts of its bucket indexes from
 * `first` on (the run between the first and last non-empty bucket). Taking
 * it is a walk over ~3,000 buckets, not hdr's encode-and-deflate (20 times
 * dearer, measured), and it is skipped when nothing was recorded since the
 * last snapshot. The cluster channel uses V8 serialization, so the typed
 * array crosses as bytes.
 */
export interface HistogramData {
  /** Values recorded (cumulative): the same total means the same histogram. */
  total: number;
  first: number;
  counts: Float64Array;
}

function histogramData(h: hdr.JsHistogram): HistogramData {
  const n = h.countsArrayLength;
  let first = 0;
  while (first < n && h.getCountAtIndex(first) === 0) first++;
  let last = n - 1;
  while (last >= first && h.getCountAtIndex(last) === 0) last--;
  const counts = new Float64Array(Math.max(0, last - first + 1));
  for (let i = first; i <= last; i++) counts[i - first] = h.getCountAtIndex(i);
  return { total: h.totalCount, first, counts };
}

/** Adds what `histogramData` took into `into` (a histogram of the same layout). */
export function addHistogramData(into: hdr.JsHistogram, data: HistogramData): void {
  const { first, counts } = data;
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) into.recordValueWithCount(into.valueFromIndex(first + i), counts[i]);
}

/** Records a duration in milliseconds on one series (stored as whole microseconds, within the layout's range). */
export function recordMs(series: hdr.JsHistogram, ms: number): void {
  const us = Math.round(ms * 1000);
  series.recordValue(us < 1 ? 1 : us > 600_000_000 ? 600_000_000 : us);
}

abstract class Family<T> {
  protected readonly series = new Map<string, T>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labels: readonly string[],
    private readonly maxSeries: number,
  ) {}

  protected seriesOf(values: readonly string[], create: () => T): T {
    const key = values.length === 1 ? values[0] : values.join(SEP);
    let s = this.series.get(key);
    if (s === undefined) {
      if (this.series.size >= this.maxSeries) {
        const other = this.labels.map(() => OTHER).join(SEP);
        s = this.series.get(other);
        if (s === undefined) this.series.set(other, (s = create()));
        return s;
      }
      this.series.set(key, (s = create()));
    }
    return s;
  }

  protected entries(): [string[], T][] {
    for (const c of this.collectors) c();
    return [...this.series].map(([k, v]) => [this.labels.length === 0 ? [] : k.split(SEP), v]);
  }

  private collectors: (() => void)[] = [];

  /** `collect` runs before every snapshot, to copy values kept elsewhere (queue depth, gossip totals). */
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }
}

export class Counter extends Family<{ n: number }> {
  inc(values: readonly string[] = [], n = 1): void {
    this.seriesOf(values, () => ({ n: 0 })).n += n;
  }

  /** The series of these label values, for a caller that counts on it often (resolved once: no key built per count). */
  at(values: readonly string[]): { n: number } {
    return this.seriesOf(values, () => ({ n: 0 }));
  }

  /** Sets a total counted elsewhere (it must only grow). */
  set(values: readonly string[], total: number): void {
    this.seriesOf(values, () => ({ n: 0 })).n = total;
  }

  snapshot(): FamilySnapshot<number> {
    return { help: this.help, labels: [...this.labels], series: this.entries().map(([l, v]) => [l, v.n]) };
  }
}

/** A value read when a snapshot is taken (queue depth, members, event-loop delay). */
export class Gauge extends Family<{ v: number }> {
  set(values: readonly string[], v: number): void {
    this.seriesOf(values, () => ({ v: 0 })).v = v;
  }

  snapshot(): FamilySnapshot<number> {
    return { help: this.help, labels: [...this.labels], series: this.entries().map(([l, v]) => [l, v.v]) };
  }
}

export class Histogram extends Family<hdr.JsHistogram> {
  private readonly taken = new WeakMap<hdr.JsHistogram, HistogramData>();

  /** Records a duration in milliseconds (stored as whole microseconds). */
  recordMs(values: readonly string[], ms: number): void {
    recordMs(this.seriesOf(values, newHistogram), ms);
  }

  /** The series of these label values, for a caller that records on it often (pass it to recordMs). */
  at(values: readonly string[]): hdr.JsHistogram {
    return this.seriesOf(values, newHistogram);
  }

  snapshot(): FamilySnapshot<HistogramData> {
    const series = this.entries().map(([l, h]): [string[], HistogramData] => {
      let data = this.taken.get(h);
      if (data === undefined || data.total !== h.totalCount) this.taken.set(h, (data = histogramData(h)));
      return [l, data];
    });
    return { help: this.help, labels: [...this.labels], series };
  }
}

/** A family as it crosses IPC: label values and a number (or a histogram's counts). */
export interface FamilySnapshot<V> {
  help: string;
  labels: string[];
  series: [string[], V][];
}

export interface MetricsSnapshot {
  counters: Record<string, FamilySnapshot<number>>;
  gauges: Record<string, FamilySnapshot<number>>;
  histograms: Record<string, FamilySnapshot<HistogramData>>;
}

export class Metrics {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();

  constructor(private readonly maxSeries = 2000) {}

  /** The counter of that name, made on first use (stages of every config generation share it). */
  counter(name: string, help: string, labels: readonly string[] = []): Counter {
    return family(this.counters, name, () => new Counter(name, help, labels, this.maxSeries));
  }

  gauge(name: string, help: string, labels: readonly string[] = []): Gauge {
    return family(this.gauges, name, () => new Gauge(name, help, labels, this.maxSeries));
  }

  histogram(name: string, help: string, labels: readonly string[] = []): Histogram {
    return family(this.histograms, name, () => new Histogram(name, help, labels, this.maxSeries));
  }

  snapshot(): MetricsSnapshot {
    const out: MetricsSnapshot = { counters: {}, gauges: {}, histograms: {} };
    for (const [n, c] of this.counters) out.counters[n] = c.snapshot();
    for (const [n, g] of this.gauges) out.gauges[n] = g.snapshot();
    for (const [n, h] of this.histograms) out.histograms[n] = h.snapshot();
    return out;
  }
}

function family<F>(map: Map<string, F>, name: string, make: () => F): F {
  let f = map.get(name);
  if (f === undefined) map.set(name, (f = make()));
  return f;
}
