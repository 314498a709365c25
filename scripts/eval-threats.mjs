#!/usr/bin/env node
// Detection measurement over shared/corpora/libinjection and the realistic benign
// API corpus in test/fixtures/benign-api. Needs `npm run build` first.
//
//   node scripts/eval-threats.mjs [--json] [--level N] [--corpus DIR]
//
// Each corpus line (URL-encoded, as found in a query string) is sent through the
// detector as a query value (`inspectValue(line, 'query')`) and as a form body
// (`inspectForm('q=' + line)`, raw `&` escaped as %26). An attack counts as detected only when BOTH
// modes detect it; a benign input counts as flagged when EITHER mode flags it.
// The realistic API corpus is sent as it would arrive: `*.jsonl` lines as JSON
// bodies, `*.txt` lines as query values and as form bodies, `*.form` lines as
// form bodies, `*.headers` lines (`Name: value`) as header values.

import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectValue, inspectForm, inspectJson, THRESHOLDS, DEFAULT_LEVEL } from '../dist/inspect/detect.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

export function parseArgs(argv) {
  const opts = { json: false, level: DEFAULT_LEVEL, corpus: null, benignApi: join(root, 'test/fixtures/benign-api'), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a === '--level') opts.level = Number(argv[++i]);
    else if (a.startsWith('--level=')) opts.level = Number(a.slice(8));
    else if (a === '--corpus') opts.corpus = argv[++i];
    else if (a === '--benign-api') opts.benignApi = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if (![1, 2, 3, 4].includes(opts.level)) throw new Error('--level must be 1..4');
  if (!opts.corpus) {
    for (const c of [join(root, '../shared/corpora/libinjection'), join(root, 'shared/corpora/libinjection')]) {
      if (existsSync(c)) {
        opts.corpus = c;
        break;
      }
    }
  }
  return opts;
}

function lines(file) {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

export function evaluate(opts) {
  const level = opts.level;
  const threshold = THRESHOLDS[level];
  const hitQuery = (line) => inspectValue(line, 'query', level).score >= threshold;
  // A raw '&' in a corpus line is part of the input (e.g. `&#106;` entities), so it is
  // escaped to keep the input one form value, as a client encoding it would.
  const hitForm = (line) => inspectForm('q=' + line.replace(/&/g, '%26'), level).score >= threshold;

  const files = {};
  const attack = { detected: 0, total: 0 };
  const benign = { flagged: 0, total: 0 };
  const tbd = {};
  const misses = [];
  const flagged = [];
  const names = readdirSync(opts.corpus)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  for (const name of names) {
    const kind = name.startsWith('sqli-') || name.startsWith('xss-') ? 'attack' : name === 'false_positives.txt' ? 'benign' : name.startsWith('tbd-') ? 'tbd' : null;
    if (!kind) continue;
    const ls = lines(join(opts.corpus, name));
    let q = 0;
    let f = 0;
    let both = 0;
    let either = 0;
    for (const l of ls) {
      const a = hitQuery(l);
      const b = hitForm(l);
      if (a) q++;
      if (b) f++;
      if (a && b) both++;
      if (a || b) either++;
      if (kind === 'attack' && !(a && b)) misses.push(`${name}: ${l}`);
      if (kind === 'benign' && (a || b)) flagged.push(`${name}: ${l}`);
    }
    const entry = { kind, total: ls.length, query: q, form: f };
    if (kind === 'attack') {
      entry.detected = both;
      attack.detected += both;
      attack.total += ls.length;
      files[name] = entry;
    } else if (kind === 'benign') {
      entry.flagged = either;
      benign.flagged += either;
      benign.total += ls.length;
      files[name] = entry;
    } else {
      entry.detected = both;
      tbd[name] = entry;
    }
  }

  // realistic API traffic
  const api = { flagged: 0, total: 0, files: {} };
  if (opts.benignApi && existsSync(opts.benignApi)) {
    for (const name of readdirSync(opts.benignApi).sort()) {
      const file = join(opts.benignApi, name);
      let ls;
      try {
        ls = lines(file);
      } catch {
        continue;
      }
      let fl = 0;
      for (const l of ls) {
        let hit = false;
        if (name.endsWith('.jsonl')) hit = inspectJson(l, level).score >= threshold;
        else if (name.endsWith('.form')) hit = inspectForm(l, level).score >= threshold;
        else if (name.endsWith('.headers')) {
          const i = l.indexOf(':');
          const hname = l.slice(0, i).trim().toLowerCase();
          hit = inspectValue(l.slice(i + 1).trim(), hname === 'cookie' ? 'cookie' : 'header', level).score >= threshold;
        } else if (name.endsWith('.txt')) {
          const enc = encodeURIComponent(l);
          hit = hitQuery(enc) || hitForm(enc) || inspectValue(l, 'body', level).score >= threshold;
        } else continue;
        if (hit) {
          fl++;
          flagged.push(`benign-api/${name}: ${l}`);
        }
      }
      api.files[basename(name)] = { flagged: fl, total: ls.length };
      api.flagged += fl;
      api.total += ls.length;
    }
  }
  return { level, threshold, attack, benign, files, tbd, benignApi: api, misses, flagged };
}

const pct = (a, b) => (b === 0 ? '  n/a' : ((100 * a) / b).toFixed(2).padStart(6) + '%');

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.corpus) {
    console.error('corpus directory not found (../shared/corpora/libinjection); pass --corpus DIR');
    process.exit(2);
  }
  const r = evaluate(opts);
  if (opts.json) {
    const { misses, flagged, ...rest } = r;
    console.log(JSON.stringify(opts.verbose ? r : rest, null, 2));
    return;
  }
  console.log(`level ${r.level} (threshold ${r.threshold}); attack = detected as query value AND as form body; benign = flagged in either`);
  const w = Math.max(...Object.keys(r.files).map((k) => k.length), 20);
  for (const [name, e] of Object.entries(r.files)) {
    if (e.kind === 'attack') console.log(`${name.padEnd(w)}  detected ${pct(e.detected, e.total)}  (${e.detected}/${e.total}; query ${e.query}, form ${e.form})`);
    else console.log(`${name.padEnd(w)}  flagged  ${pct(e.flagged, e.total)}  (${e.flagged}/${e.total}; query ${e.query}, form ${e.form})`);
  }
  for (const [name, e] of Object.entries(r.tbd)) console.log(`${name.padEnd(w)}  (tbd, not counted) detected ${e.detected}/${e.total}`);
  console.log(`TOTAL attack detected ${pct(r.attack.detected, r.attack.total)} (${r.attack.detected}/${r.attack.total})`);
  console.log(`TOTAL benign flagged  ${pct(r.benign.flagged, r.benign.total)} (${r.benign.flagged}/${r.benign.total})`);
  for (const [name, e] of Object.entries(r.benignApi.files)) console.log(`benign-api/${name.padEnd(w - 11)}  flagged ${e.flagged}/${e.total}`);
  console.log(`TOTAL benign API traffic flagged ${r.benignApi.flagged}/${r.benignApi.total}`);
  if (opts.verbose) {
    for (const m of r.misses) console.log('MISS ' + m);
    for (const f of r.flagged) console.log('FLAG ' + f);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
