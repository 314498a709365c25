#!/usr/bin/env node
// Differential check of the PII detectors: an older build against this one on the same
// generated texts; every span that differs is counted in a class (what changed, which
// entity, the value's coarse shape) and shown with examples, so that each class of
// change can be explained. Needs `npm run build`, and the older build's dist/ folder:
//
//   git worktree add /tmp/old <commit> && (cd /tmp/old && npm ci && npm run build)
//   node scripts/pii-differential.mjs --old /tmp/old/dist [--cases 6000] [--seed 500] [--examples 2] [--json]
//
// Texts: seeded synthetic cases (scripts/pii-eval/synth.mjs, a seed none of eval:pii's
// sets uses, both template families), each also mutated (a char deleted, doubled or its
// case flipped, a separator swapped), random runs of digits and separators inside
// words, and the Presidio corpus texts. Both builds see every text as text and, for
// JSON cases, as JSON (detectJson, where the key is context).
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { faker } from '@faker-js/faker';
import { generate } from './pii-eval/synth.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const oldDir = opt('old', null);
if (!oldDir) throw new Error('--old DIR (an older build\'s dist/) is required');
const newDir = opt('new', join(here, '../dist'));
const CASES = Number(opt('cases', 6000));
const SEED = Number(opt('seed', 500));
const EXAMPLES = Number(opt('examples', 2));

const load = async (dir) => import(pathToFileURL(join(resolve(dir), 'protect/detect.js')).href);
const A = await load(oldDir);
const B = await load(newDir);

// ------------------------------------------------------------------ texts
faker.seed(SEED);
const texts = [];
for (const family of ['A', 'B']) {
  for (const c of generate({ seed: SEED + (family === 'A' ? 0 : 1), count: CASES / 2, family })) {
    texts.push({ text: c.text, json: c.format === 'json' });
    texts.push({ text: mutate(c.text), json: false });
  }
}
const NOISE = '0123456789 +-.()/x#';
for (let i = 0; i < CASES / 2; i++) {
  let s = '';
  const len = faker.number.int({ min: 5, max: 30 });
  for (let k = 0; k < len; k++) s += NOISE[faker.number.int(NOISE.length - 1)];
  texts.push({ text: `${faker.lorem.word()} ${s} ${faker.lorem.word()}`, json: false });
}
const presidio = join(here, '../../shared/corpora/presidio/recognizer-cases.json');
if (existsSync(presidio)) for (const c of JSON.parse(readFileSync(presidio, 'utf8'))) texts.push({ text: c.text, json: false });

function mutate(s) {
  if (s.length < 2) return s;
  const i = faker.number.int(s.length - 1);
  switch (faker.number.int(3)) {
    case 0:
      return s.slice(0, i) + s.slice(i + 1);
    case 1:
      return s.slice(0, i) + s[i] + s.slice(i);
    case 2:
      return s.slice(0, i) + (s[i] === s[i].toUpperCase() ? s[i].toLowerCase() : s[i].toUpperCase()) + s.slice(i + 1);
    default:
      return s.replace(/[ -]/, (c) => (c === ' ' ? '-' : ' '));
  }
}

// ------------------------------------------------------------------ classes
/** The value's coarse shape: how it starts, its letters' case, an extension, how many digits. */
function shape(v) {
  const digits = (v.match(/\d/g) ?? []).length;
  const start = v.startsWith('+') || v.startsWith('(+') ? '+' : v.startsWith('00') ? '00' : v.startsWith('(') ? '(' : v.startsWith('0') ? '0' : /^[a-z]/.test(v) ? 'a' : /^[A-Z]/.test(v) ? 'A' : 'digit';
  const ext = /(x|ext\.?|#) ?\d+$/.test(v) ? ' +extension' : '';
  const lower = /[a-z]/.test(ext ? v.replace(/(x|ext\.?|#) ?\d+$/, '') : v) ? ' lower-case' : '';
  const grouped = /\d[^0-9A-Za-z]+\d/.test(v) ? 'grouped' : 'one run';
  const size = digits <= 9 ? '<=9 digits' : digits <= 12 ? '10-12 digits' : '13+ digits';
  return `starts ${start}${lower}${ext}, ${grouped}, ${size}`;
}

const classes = new Map();
let compared = 0;
let changedTexts = 0;
function record(kind, entity, value, text, start) {
  const key = `${kind} ${entity}: ${shape(value)}`;
  let c = classes.get(key);
  if (!c) classes.set(key, (c = { n: 0, examples: [] }));
  c.n++;
  if (c.examples.length < EXAMPLES) c.examples.push({ value, around: text.slice(Math.max(0, start - 30), start + value.length + 15) });
}

function compare(text, oldSpans, newSpans) {
  compared++;
  const same = (a, b) => a.start === b.start && a.end === b.end && a.entity === b.entity;
  let diff = false;
  for (const s of newSpans) {
    if (oldSpans.some((o) => same(o, s))) continue;
    diff = true;
    const over = oldSpans.find((o) => o.start < s.end && s.start < o.end);
    if (!over) record('found', s.entity, text.slice(s.start, s.end), text, s.start);
    else if (over.entity !== s.entity) record(`entity ${over.entity} ->`, s.entity, text.slice(s.start, s.end), text, s.start);
    else record(s.end - s.start > over.end - over.start ? 'longer' : 'shorter', s.entity, text.slice(s.start, s.end), text, s.start);
  }
  for (const o of oldSpans) {
    if (newSpans.some((s) => s.start < o.end && o.start < s.end)) continue;
    diff = true;
    record('no longer found', o.entity, text.slice(o.start, o.end), text, o.start);
  }
  if (diff) changedTexts++;
}

const strip = (spans) => spans.map((s) => ({ entity: s.entity, start: s.start, end: s.end }));
for (const { text, json } of texts) {
  compare(text, strip(A.detectPii(text)), strip(B.detectPii(text)));
  if (json) {
    try {
      compare(text, strip(A.detectJson(text)), strip(B.detectJson(text)));
    } catch {
      // a mutated document that no longer parses: both builds throw alike
    }
  }
}

const rows = [...classes.entries()].sort((a, b) => b[1].n - a[1].n);
if (args.includes('--json')) {
  process.stdout.write(JSON.stringify({ compared, changedTexts, classes: Object.fromEntries(rows.map(([k, v]) => [k, v.n])) }) + '\n');
} else {
  console.log(`${compared} comparisons (${texts.length} texts), ${changedTexts} with a changed span, ${rows.length} classes of change`);
  for (const [k, v] of rows) {
    console.log(`${String(v.n).padStart(6)}  ${k}`);
    for (const e of v.examples) console.log(`          ${JSON.stringify(e.value)} in …${JSON.stringify(e.around)}…`);
  }
}
