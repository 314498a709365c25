// Combines the detectors with anomaly scoring (OWASP CRS style): each matched
// rule adds its score; a value/request is an attack when the total reaches the
// threshold of the configured sensitivity level. Higher levels enable more
// (noisier) rules and lower the threshold.

import { views, urlDecode, type Location } from './normalize.js';
import { detectSqli } from './sqli.js';
import { detectXss } from './xss.js';
import { detectMisc } from './misc.js';
import { base64Text, detectCode, plainCode } from './code.js';
import { detectShell } from './shell.js';
import { detectScript } from './js.js';
import type { Finding } from './types.js';

export type { Location } from './normalize.js';
export type Level = 1 | 2 | 3 | 4;

export interface InspectResult {
  score: number;
  rules: string[];
  /** Each rule's own score, in the order of `rules` (absent: the score is not split). */
  ruleScores?: number[];
}

export interface LocatedFinding extends InspectResult {
  /** Where the value sits: `key`, `a.b[2].c`, or `a.b[2].c#key` for a key itself. */
  path: string;
}

export interface StructuredResult extends InspectResult {
  findings: LocatedFinding[];
  /** The walk stopped early because a depth/size bound was hit (the caller decides what that means). */
  truncated: boolean;
}

/** Anomaly score at or above which a value/request counts as an attack, per level. */
export const THRESHOLDS: Readonly<Record<Level, number>> = Object.freeze({ 1: 5, 2: 5, 3: 5, 4: 4 });
export const DEFAULT_LEVEL: Level = 2;

/** Values longer than this are inspected in overlapping windows of this size. */
const WINDOW = 64 * 1024;
const OVERLAP = 1024;

/** Values no rule can match: short runs of letters, digits and `_ . @ -` (ids, dates, numbers, emails). */
const PLAIN = /^[A-Za-z0-9_.@-]{0,256}$/;

function inspectOne(value: string, location: Location, level: Level): InspectResult {
  if (PLAIN.test(value) && value.indexOf('--') < 0 && value.indexOf('@@') < 0) {
    const plain = plainCode(value.toLowerCase());
    if (value.length >= 12) plain.push(...decodedBase64(value));
    return score(plain, level);
  }
  const { decoded, sql, markup } = views(value, location);
  const findings: Finding[] = [];
  findings.push(...detectSqli(sql));
  findings.push(...detectXss(markup));
  findings.push(...detectMisc(decoded, location));
  findings.push(...detectShell(decoded));
  findings.push(...detectCode(markup));
  findings.push(...detectScript(markup));
  if (decoded.length >= 12 && decoded.length <= 4096 && decoded.indexOf(' ') < 0) findings.push(...decodedBase64(decoded));
  return score(findings, level);
}

/** A base64 value is also inspected decoded (code and commands hidden from the plain view). */
function decodedBase64(value: string): Finding[] {
  const text = base64Text(value);
  if (text === null) return [];
  const lower = text.toLowerCase();
  return [...detectCode(lower), ...detectShell(text)].map((f) => ({ ...f, rule: `${f.rule}-base64` }));
}

function score(findings: Finding[], level: Level): InspectResult {
  if (findings.length === 0) return { score: 0, rules: [] };
  let score = 0;
  const rules: string[] = [];
  const ruleScores: number[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    if (f.level > level || seen.has(f.rule)) continue;
    seen.add(f.rule);
    score += f.score;
    rules.push(f.rule);
    ruleScores.push(f.score);
  }
  return { score, rules, ruleScores };
}

/**
 * Inspect one input value from `location` at sensitivity `level` (default 2).
 * `score` is the summed anomaly score of the matched rules; compare it with `THRESHOLDS[level]`.
 */
export function inspectValue(value: string, location: Location, level: Level = DEFAULT_LEVEL): InspectResult {
  if (value.length <= WINDOW) return inspectOne(value, location, level);
  // Long values: windows keep every regex/tokenizer pass bounded; overlap catches payloads on a boundary.
  let score = 0;
  const rules = new Set<string>();
  for (let start = 0; start < value.length; start += WINDOW - OVERLAP) {
    const r = inspectOne(value.slice(start, start + WINDOW), location, level);
    for (const rule of r.rules) rules.add(rule);
    score = Math.max(score, r.score);
  }
  return { score, rules: [...rules] };
}

/** True when `result` reaches the threshold of `level`. */
export function isAttack(result: InspectResult, level: Level = DEFAULT_LEVEL): boolean {
  return result.score >= THRESHOLDS[level];
}

export interface WalkLimits {
  maxDepth: number;
  maxValues: number;
  maxTotalChars: number;
}

export const DEFAULT_WALK_LIMITS: Readonly<WalkLimits> = Object.freeze({ maxDepth: 32, maxValues: 10_000, maxTotalChars: 4 * 1024 * 1024 });

class Collector {
  score = 0;
  rules = new Set<string>();
  findings: LocatedFinding[] = [];
  values = 0;
  chars = 0;
  truncated = false;
  constructor(
    readonly location: Location,
    readonly level: Level,
    readonly limits: WalkLimits,
  ) {}

  check(value: string, path: string): boolean {
    if (this.values >= this.limits.maxValues || this.chars + value.length > this.limits.maxTotalChars) {
      this.truncated = true;
      return false;
    }
    this.values++;
    this.chars += value.length;
    if (value.length === 0) return true;
    const r = inspectValue(value, this.location, this.level);
    if (r.score > 0) {
      this.findings.push({ path, score: r.score, rules: r.rules, ruleScores: r.ruleScores });
      for (const rule of r.rules) this.rules.add(rule);
      // the request's anomaly score is that of its worst value
      if (r.score > this.score) this.score = r.score;
    }
    return true;
  }

  result(): StructuredResult {
    return { score: this.score, rules: [...this.rules], findings: this.findings, truncated: this.truncated };
  }
}

/**
 * Inspect a JSON document: every key and every string (and number) value, with its path.
 * Invalid JSON is inspected as plain text.
 */
export function inspectJson(
  text: string,
  level: Level = DEFAULT_LEVEL,
  limits: WalkLimits = DEFAULT_WALK_LIMITS,
): StructuredResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const c = new Collector('body', level, limits);
    c.check(text, '$');
    return c.result();
  }
  const c = new Collector('body', level, limits);
  // iterative walk (no recursion limits to hit), bounded depth
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: doc, path: '$', depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (!c.check(v, path)) break;
    } else if (v !== null && typeof v === 'object') {
      if (depth >= limits.maxDepth) {
        c.truncated = true;
        continue;
      }
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1 });
      } else {
        const keys = Object.keys(v as Record<string, unknown>);
        for (let i = keys.length - 1; i >= 0; i--) {
          const k = keys[i];
          if (!c.check(k, `${path}#key`)) break;
          stack.push({ v: (v as Record<string, unknown>)[k], path: `${path}.${k}`, depth: depth + 1 });
        }
      }
    }
    if (c.truncated && c.values >= limits.maxValues) break;
  }
  return c.result();
}

/** Inspect an `application/x-www-form-urlencoded` body (or query string): every key and value. */
export function inspectForm(
  text: string,
  level: Level = DEFAULT_LEVEL,
  limits: WalkLimits = DEFAULT_WALK_LIMITS,
  location: Location = 'body',
): StructuredResult {
  const c = new Collector(location, level, limits);
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    const pair = text.slice(start, end);
    if (pair.length) {
      const eq = pair.indexOf('=');
      const rawKey = eq < 0 ? pair : pair.slice(0, eq);
      const rawVal = eq < 0 ? '' : pair.slice(eq + 1);
      // the key is decoded once to name it; values are handed over raw (inspectValue decodes)
      const keyName = urlDecode(rawKey.replace(/\+/g, ' '), false, 1);
      const plus = (s: string) => (s.indexOf('+') >= 0 ? s.replace(/\+/g, ' ') : s);
      if (!c.check(plus(rawKey), `${keyName}#key`)) break;
      if (!c.check(plus(rawVal), keyName)) break;
    }
    start = end + 1;
  }
  return c.result();
}
