#!/usr/bin/env node
// Where a process spent its CPU samples, from V8 .cpuprofile files (node --cpu-prof):
// self time per function, time including callees per function, and self time per
// file or package. `node scripts/profile-summary.mjs <file-or-dir> [--top N]`; for a
// directory, the profile with the most non-idle samples (the busiest process) is read.
// Flame graphs: open the same file in Chrome DevTools (Performance) or speedscope.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const IDLE = new Set(['(idle)', '(program)']);

function load(file) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const total = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const idle = p.nodes.filter((n) => IDLE.has(n.callFrame.functionName)).reduce((a, n) => a + (n.hitCount ?? 0), 0);
  return { file, p, byId, total, busy: total - idle, ms: (p.endTime - p.startTime) / 1000 };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A short place: `src/proxy/exchange.ts`-like paths for project files, the package for node_modules, `node:` internals. */
function placeOf(url) {
  if (!url) return '(native)';
  let u = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 13).split('/');
    return `npm:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (u.startsWith(ROOT)) u = path.relative(ROOT, u);
  return u;
}

const keyOf = (cf) => `${cf.functionName || '(anonymous)'} ${placeOf(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;

function rows(map, busy, top) {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `  ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
}

export function summarize(file, top = 25) {
  const { p, byId, busy, total, ms } = load(file);
  const self = new Map();
  const byPlace = new Map();
  const inclusive = new Map();
  // Inclusive: a function counts once per sample however often it recurses.
  const onPath = new Map();
  const walk = (node) => {
    const cf = node.callFrame;
    const key = keyOf(cf);
    const hits = node.hitCount ?? 0;
    if (!IDLE.has(cf.functionName) && hits) {
      self.set(key, (self.get(key) ?? 0) + hits);
      const place = placeOf(cf.url);
      byPlace.set(place, (byPlace.get(place) ?? 0) + hits);
    }
    onPath.set(key, (onPath.get(key) ?? 0) + 1);
    let sub = IDLE.has(cf.functionName) ? 0 : hits;
    for (const id of node.children ?? []) sub += walk(byId.get(id));
    onPath.set(key, onPath.get(key) - 1);
    if (onPath.get(key) === 0 && sub) inclusive.set(key, (inclusive.get(key) ?? 0) + sub);
    return sub;
  };
  walk(p.nodes[0]);
  inclusive.delete(keyOf(p.nodes[0].callFrame));
  return [
    `${path.basename(file)}: ${busy} busy samples of ${total} (${ms.toFixed(0)} ms profiled)`,
    `self time, by function:`,
    rows(self, busy, top),
    `including callees, by function:`,
    rows(inclusive, busy, top),
    `self time, by file or package:`,
    rows(byPlace, busy, Math.min(top, 15)),
    '',
  ].join('\n');
}

/** Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is a process's main thread. */
const isMainThread = (f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f);

/**
 * The busiest main-thread profile of a directory: the gateway process rather than its
 * supervisor (worker threads, which sit in piscina's wait loop, are left to `summarize`).
 */
export function summarizeDir(dir, top) {
  const files = fs.readdirSync(dir).filter(isMainThread).map((f) => path.join(dir, f));
  if (files.length === 0) return `no main-thread .cpuprofile in ${dir} (did the gateway exit cleanly?)\n`;
  const busiest = files.map((f) => ({ f, busy: load(f).busy })).sort((a, b) => b.busy - a.busy)[0].f;
  return summarize(busiest, top);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const top = ti >= 0 ? Number(args.splice(ti, 2)[1]) : 25;
  const target = args[0];
  if (!target || !Number.isInteger(top) || top < 1) {
    process.stderr.write('usage: node scripts/profile-summary.mjs <file.cpuprofile | dir> [--top N]\n');
    process.exit(2);
  }
  process.stdout.write(fs.statSync(target).isDirectory() ? summarizeDir(target, top) : summarize(target, top));
}
