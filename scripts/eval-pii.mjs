#!/usr/bin/env node
// PII detection measurement over labelled cases. Needs `npm run build` first.
//
//   node scripts/eval-pii.mjs [--json] [--corpus FILE] [--overlap] [--isolated] [--min-score X] [--verbose]
//
// Corpus: a JSON array of {entity, text, count, spans: [[start, end], ...]} (default
// ../shared/corpora/presidio/recognizer-cases.json). Every detector runs on each text
// (overlaps resolved as in the gateway) and the spans of the case's entity are compared
// with the labelled ones: a prediction is a true positive when its offsets equal a
// labelled span's (with --overlap: when it overlaps one not yet matched). Other
// entities found in a case are not scored (the cases label one entity each).
// --isolated runs only the case's entity's detector.
// Conflicts: the Presidio corpus holds three phone texts twice with different labels
// (once with 1 number, once with 2: Presidio ran them under different region/leniency
// settings that the corpus does not record), so any detector loses one point per pair
// and 0.95 precision AND recall is out of reach when scoring lines as they are (the
// best split is P 0.971/R 0.944 or P 0.946/R 0.972). --merge-conflicts scores each
// such text once, against the union of its labels. The default scores every line.

import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectPii, ENTITIES } from '../dist/protect/detect.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

export function parseArgs(argv) {
  const opts = { json: false, corpus: null, overlap: false, isolated: false, minScore: 0, verbose: false, mergeConflicts: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--overlap') opts.overlap = true;
    else if (a === '--isolated') opts.isolated = true;
    else if (a === '--merge-conflicts') opts.mergeConflicts = true;
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a === '--corpus') opts.corpus = argv[++i];
    else if (a === '--min-score') opts.minScore = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.corpus) {
    for (const c of [join(root, '../shared/corpora/presidio/recognizer-cases.json'), join(root, 'shared/corpora/presidio/recognizer-cases.json')]) {
      if (existsSync(c)) {
        opts.corpus = c;
        break;
      }
    }
  }
  if (!opts.corpus) throw new Error('corpus not found: pass --corpus FILE');
  return opts;
}

/** Texts labelled more than once (same entity) with different spans. */
export function conflicts(cases) {
  const seen = new Map();
  for (const c of cases) {
    const k = c.entity + '\u0000' + c.text;
    const spans = JSON.stringify([...(c.spans ?? [])].sort((a, b) => a[0] - b[0]));
    (seen.get(k) ?? seen.set(k, new Set()).get(k)).add(spans);
  }
  return [...seen.entries()].filter(([, v]) => v.size > 1).map(([k]) => k);
}

/** One case per conflicting text, labelled with the union of its labels; other cases unchanged. */
export function mergeConflicts(cases) {
  const bad = new Set(conflicts(cases));
  const merged = new Map();
  const out = [];
  for (const c of cases) {
    const k = c.entity + '\u0000' + c.text;
    if (!bad.has(k)) {
      out.push(c);
      continue;
    }
    let m = merged.get(k);
    if (!m) {
      m = { entity: c.entity, text: c.text, spans: [] };
      merged.set(k, m);
      out.push(m);
    }
    for (const s of c.spans ?? []) if (!m.spans.some((x) => x[0] === s[0] && x[1] === s[1])) m.spans.push(s);
    m.count = m.spans.length;
  }
  return out;
}

export function evaluate(cases, opts = {}) {
  if (opts.mergeConflicts) cases = mergeConflicts(cases);
  const stats = {};
  const misses = [];
  for (const c of cases) {
    const st = (stats[c.entity] ??= { tp: 0, fp: 0, fn: 0 });
    const found = detectPii(c.text, opts.isolated ? [c.entity] : undefined, { minScore: opts.minScore ?? 0 }).filter(
      (s) => s.entity === c.entity,
    );
    const gold = (c.spans ?? []).map(([s, e]) => ({ s, e, hit: false }));
    for (const f of found) {
      const g = gold.find((x) => !x.hit && (opts.overlap ? x.s < f.end && f.start < x.e : x.s === f.start && x.e === f.end));
      if (g) {
        g.hit = true;
        st.tp++;
      } else {
        st.fp++;
        misses.push({ kind: 'fp', entity: c.entity, text: c.text, value: c.text.slice(f.start, f.end) });
      }
    }
    for (const g of gold) {
      if (!g.hit) {
        st.fn++;
        misses.push({ kind: 'fn', entity: c.entity, text: c.text, value: c.text.slice(g.s, g.e) });
      }
    }
  }
  const result = {};
  for (const e of [...ENTITIES, ...Object.keys(stats).filter((k) => !ENTITIES.includes(k))]) {
    const st = stats[e];
    if (!st) continue;
    const precision = st.tp + st.fp === 0 ? 1 : st.tp / (st.tp + st.fp);
    const recall = st.tp + st.fn === 0 ? 1 : st.tp / (st.tp + st.fn);
    result[e] = { precision: round(precision), recall: round(recall), tp: st.tp, fp: st.fp, fn: st.fn };
  }
  return { result, misses };
}

const round = (x) => Math.round(x * 10000) / 10000;

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const opts = parseArgs(process.argv.slice(2));
  const cases = JSON.parse(readFileSync(opts.corpus, 'utf8'));
  const { result, misses } = evaluate(cases, opts);
  if (opts.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
  } else {
    const nc = conflicts(cases).length;
    console.log(`corpus: ${opts.corpus} (${cases.length} cases; match: ${opts.overlap ? 'overlap' : 'exact offsets'})`);
    if (nc) console.log(`${nc} text(s) carry conflicting labels: ${opts.mergeConflicts ? 'scored once against the union of their labels' : 'every line scored (see --merge-conflicts)'}`);
    console.log('entity          precision  recall     tp    fp    fn');
    for (const [e, r] of Object.entries(result)) {
      console.log(
        `${e.padEnd(15)} ${r.precision.toFixed(4).padStart(9)} ${r.recall.toFixed(4).padStart(7)} ${String(r.tp).padStart(6)} ${String(r.fp).padStart(5)} ${String(r.fn).padStart(5)}`,
      );
    }
    if (opts.verbose) for (const m of misses) console.log(`${m.kind} ${m.entity} ${JSON.stringify(m.value)} in ${JSON.stringify(m.text)}`);
  }
}
