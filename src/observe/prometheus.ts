import type { MergedFamily, MergedMetrics } from './metrics-merge.js';
import type * as hdr from 'hdr-histogram-js';

/**
 * The Prometheus text exposition format (0.0.4) of merged metrics.
 *
 * Histograms are written as summaries (quantiles 0.5, 0.9, 0.99, 0.999 plus
 * _sum and _count), not as buckets: the supervisor already holds the exact
 * merge of every process's hdr histogram, so its quantiles keep hdr's
 * precision (2 significant digits) at any latency, where fixed buckets would
 * round to their boundaries and a bucket per hdr step would be thousands of
 * series. The price: summaries of several gateway hosts cannot be merged by
 * Prometheus; compare hosts, or scrape /stats. Values are in the unit of the
 * family's name (microseconds for *_us); _sum is summed from the buckets (hdr
 * keeps no exact sum), exact to the histogram's precision.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const QUANTILES = [0.5, 0.9, 0.99, 0.999];

/** Label values: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** HELP text: backslash and line feed are escaped. */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** Metric and label names from code, made valid anyway: a bad name would break the whole scrape. */
export function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[a-zA-Z_:]/.test(s) ? s : `_${s}`;
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${sanitizeName(names[i]).replace(/:/g, '_')}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function header(out: string[], name: string, help: string, type: string): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
}

function scalarFamilies(out: string[], families: Map<string, MergedFamily<number>>, type: 'counter' | 'gauge'): void {
  for (const [raw, f] of [...families].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // Counters end in _total, as Prometheus expects of them.
    const name = type === 'counter' && !raw.endsWith('_total') ? `${sanitizeName(raw)}_total` : sanitizeName(raw);
    header(out, name, f.help, type);
    for (const s of f.series.values()) out.push(`${name}${labelText(f.labels, s.labels)} ${num(s.value)}`);
  }
}

function summaryFamilies(out: string[], families: Map<string, MergedFamily<hdr.Histogram>>): void {
  for (const [raw, f] of [...families].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const name = sanitizeName(raw);
    header(out, name, f.help, 'summary');
    for (const s of f.series.values()) {
      const h = s.value;
      const count = h.totalCount;
      for (const q of QUANTILES) {
        out.push(`${name}${labelText(f.labels, s.labels, ['quantile', String(q)])} ${count === 0 ? 'NaN' : num(h.getValueAtPercentile(q * 100))}`);
      }
      out.push(`${name}_sum${labelText(f.labels, s.labels)} ${num(count === 0 ? 0 : Math.round(sumOf(h)))}`);
      out.push(`${name}_count${labelText(f.labels, s.labels)} ${num(count)}`);
    }
  }
}

/** What the JS histograms expose beyond the interface: walking the counts directly. */
interface CountsWalk {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
  medianEquivalentValue(v: number): number;
}

/**
 * The sum of recorded values at hdr precision (the same as mean x count).
 * One pass over the counts: hdr's own `mean` walks an iterator object per
 * bucket, 4-5x slower here, and a scrape does this for every series.
 */
export function sumOf(h: hdr.Histogram): number {
  const w = h as unknown as Partial<CountsWalk>;
  if (typeof w.getCountAtIndex !== 'function' || typeof w.countsArrayLength !== 'number') return h.mean * h.totalCount;
  const walk = w as CountsWalk;
  let sum = 0;
  for (let i = 0; i < walk.countsArrayLength; i++) {
    const c = walk.getCountAtIndex(i);
    if (c !== 0) sum += walk.medianEquivalentValue(walk.valueFromIndex(i)) * c;
  }
  return sum;
}

export function renderPrometheus(m: MergedMetrics): string {
  const out: string[] = [];
  scalarFamilies(out, m.counters, 'counter');
  scalarFamilies(out, m.gauges, 'gauge');
  summaryFamilies(out, m.histograms);
  return out.join('\n') + '\n';
}
