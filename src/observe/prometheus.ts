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
 * Prometheus; compare hosts, or scrape /stats. Times are exported in seconds,
 * as Prometheus asks of base units: a family kept in microseconds (`*_us`) or
 * milliseconds (`*_ms`) inside the gateway is written as `*_seconds`; _sum is
 * summed from the buckets (hdr keeps no exact sum), exact to the histogram's
 * precision.
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

/** A family's exported name and the factor from its stored unit to the base unit. */
export function exportedName(raw: string): { name: string; scale: number } {
  const name = sanitizeName(raw);
  if (name.endsWith('_us')) return { name: `${name.slice(0, -3)}_seconds`, scale: 1e-6 };
  if (name.endsWith('_ms')) return { name: `${name.slice(0, -3)}_seconds`, scale: 1e-3 };
  return { name, scale: 1 };
}

/** A scaled value without float noise (12 significant digits: 0.000123, not 0.00012300000000000001). */
const scaled = (v: number, scale: number) => (scale === 1 ? v : Number((v * scale).toPrecision(12)));

function scalarFamilies(out: string[], families: Map<string, MergedFamily<number>>, type: 'counter' | 'gauge'): void {
  for (const [raw, f] of [...families].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const exported = exportedName(raw);
    // Counters end in _total, as Prometheus expects of them.
    const name = type === 'counter' && !exported.name.endsWith('_total') ? `${exported.name}_total` : exported.name;
    header(out, name, f.help, type);
    for (const s of f.series.values()) out.push(`${name}${labelText(f.labels, s.labels)} ${num(scaled(s.value, exported.scale))}`);
  }
}

function summaryFamilies(out: string[], families: Map<string, MergedFamily<hdr.Histogram>>): void {
  for (const [raw, f] of [...families].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { name, scale } = exportedName(raw);
    header(out, name, f.help, 'summary');
    for (const s of f.series.values()) {
      const h = s.value;
      const count = h.totalCount;
      for (const q of QUANTILES) {
        out.push(`${name}${labelText(f.labels, s.labels, ['quantile', String(q)])} ${count === 0 ? 'NaN' : num(scaled(h.getValueAtPercentile(q * 100), scale))}`);
      }
      out.push(`${name}_sum${labelText(f.labels, s.labels)} ${num(count === 0 ? 0 : scaled(Math.round(sumOf(h)), scale))}`);
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
