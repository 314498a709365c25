// Detectors defined in config: a pattern, a keyword list, or JSON field names and
// paths. Specs are plain data (they cross to the worker pool as they are) and are
// compiled where they run. Patterns are checked at load so that a match attempt is
// bounded: V8's engine backtracks, so no nested quantifiers, backreferences,
// unbounded repeats or quantified alternations (see patternProblem).
import { unsafeRegexReason, walkQuantifiers } from '../validate/safe-regex.js';
import { isWordChar, type Detector, type PiiSpan } from './detectors/common.js';

export interface CustomDetectorSpec {
  /** Entity name, as used in `actions` and in the audit log: `EMPLOYEE_ID`. */
  name: string;
  pattern?: string;
  /** Case-insensitive pattern. */
  ignoreCase?: boolean;
  /** Whole words, matched case-insensitively. */
  keywords?: string[];
  /** JSON keys (`password`) or paths (`$.customer.ssn`, `$.items[*].card`); form field names. */
  fields?: string[];
}

export const MAX_PATTERN_LENGTH = 256;
const MAX_REPEAT = 64;
const MAX_VARIABLE_REPEATS = 4;

/**
 * Why a pattern cannot be used, or null. Beyond the shared nested-quantifier and
 * backreference check: every repeat bounded (`{m,n}`, n <= 64; `?`), at most four
 * variable repeats, no `|` inside a repeated group, not matching the empty string.
 * With these, one match attempt does bounded work, so a scan is linear in the text.
 */
export function patternProblem(pattern: string, ignoreCase = false): string | null {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) return `pattern must be 1 to ${MAX_PATTERN_LENGTH} characters`;
  const unsafe = unsafeRegexReason(pattern);
  if (unsafe) return unsafe;
  let variable = 0;
  const problem = walkQuantifiers(pattern, (q) => {
    if (q.max === Infinity) return `unbounded repeat '${q.char === '{' ? '{m,}' : q.char}' at offset ${q.offset}: use {m,n} with n <= ${MAX_REPEAT}`;
    if (q.max > MAX_REPEAT) return `repeat over ${MAX_REPEAT} at offset ${q.offset}`;
    // Alternation inside a repeated (or optional) group can backtrack exponentially.
    if (q.onGroup && q.groupHasAlternation && (q.max > 1 || q.char === '?')) return `repeated alternation at offset ${q.offset}`;
    if (q.min !== q.max) variable++;
    return null;
  });
  if (problem) return problem;
  if (variable > MAX_VARIABLE_REPEATS) return `more than ${MAX_VARIABLE_REPEATS} variable repeats`;
  let re: RegExp;
  try {
    re = new RegExp(pattern, ignoreCase ? 'giu' : 'gu');
  } catch (err) {
    return `not a valid regular expression (${(err as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  if (re.test('')) return 'pattern matches the empty string';
  return null;
}

export function patternDetector(entity: string, pattern: string, ignoreCase = false): Detector {
  const re = new RegExp(pattern, ignoreCase ? 'giu' : 'gu');
  return (text) => {
    const out: PiiSpan[] = [];
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++; // cannot happen (checked at load), but never loop
        continue;
      }
      out.push({ entity, start: m.index, end: m.index + m[0].length, score: 1 });
    }
    return out;
  };
}

/** Whole words from the list, case-insensitive: one pass over the text's words, a set lookup each. */
export function keywordDetector(entity: string, keywords: readonly string[]): Detector {
  const words = new Set(keywords.map((k) => k.toLowerCase()));
  let longest = 0;
  for (const w of words) longest = Math.max(longest, w.length);
  return (text) => {
    const out: PiiSpan[] = [];
    let i = 0;
    const n = text.length;
    while (i < n) {
      while (i < n && !isWordChar(text.charCodeAt(i))) i++;
      const start = i;
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
      if (i > start && i - start <= longest && words.has(text.slice(start, i).toLowerCase())) out.push({ entity, start, end: i, score: 1 });
    }
    return out;
  };
}

/**
 * Matches a value's JSON path (`$.items[3].card`) or key against configured names
 * and paths. `[*]` in a configured path stands for any array index; a bare name
 * matches that key anywhere (case-insensitive).
 */
export class FieldMatcher {
  private readonly keys = new Map<string, string>();
  private readonly paths = new Map<string, string>();
  private wildcards = false;

  add(entity: string, fields: readonly string[]): void {
    for (const f of fields) {
      if (f.startsWith('$')) {
        this.paths.set(f, entity);
        if (f.includes('[*]')) this.wildcards = true;
      } else this.keys.set(f.toLowerCase(), entity);
    }
  }

  get empty(): boolean {
    return this.keys.size === 0 && this.paths.size === 0;
  }

  /** The entity whose field this value sits in, or null. */
  match(key: string | number | null, path: () => string): string | null {
    if (typeof key === 'string' && this.keys.size > 0) {
      const hit = this.keys.get(key.toLowerCase());
      if (hit) return hit;
    }
    if (this.paths.size === 0) return null;
    const p = path();
    const hit = this.paths.get(p);
    if (hit) return hit;
    return this.wildcards ? (this.paths.get(p.replace(/\[\d+\]/g, '[*]')) ?? null) : null;
  }
}

/** Config paths: `$`, then `.name`, `[n]`, `[*]` or `['odd key']` segments. */
const PATH = /^\$(?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[(?:\d{1,6}|\*|'[^'\\]{1,64}')\]){1,16}$/;

/** Load-time problems of a spec, as `field: reason`. */
export function specProblems(s: CustomDetectorSpec, at: string, builtIn: readonly string[]): string[] {
  const out: string[] = [];
  if (builtIn.includes(s.name)) out.push(`${at}.name: ${s.name} is a built-in detector`);
  const kinds = [s.pattern, s.keywords, s.fields].filter((x) => x !== undefined).length;
  if (kinds !== 1) out.push(`${at}: exactly one of pattern, keywords or fields`);
  if (s.pattern !== undefined) {
    const p = patternProblem(s.pattern, s.ignoreCase);
    if (p) out.push(`${at}.pattern: ${p}`);
  }
  for (const [i, f] of (s.fields ?? []).entries()) {
    if (f.startsWith('$') && !PATH.test(f)) out.push(`${at}.fields[${i}]: not a supported path (use $.a.b, $.items[*].card, $['odd key'])`);
  }
  return out;
}

export interface CompiledCustom {
  /** Text detectors (patterns and keywords) by entity. */
  text: Record<string, Detector>;
  fields: FieldMatcher;
}

export function compileCustom(specs: readonly CustomDetectorSpec[]): CompiledCustom {
  const text: Record<string, Detector> = {};
  const fields = new FieldMatcher();
  for (const s of specs) {
    if (s.pattern !== undefined) text[s.name] = patternDetector(s.name, s.pattern, s.ignoreCase);
    else if (s.keywords) text[s.name] = keywordDetector(s.name, s.keywords);
    else if (s.fields) fields.add(s.name, s.fields);
  }
  return { text, fields };
}
