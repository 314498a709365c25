/**
 * A pattern's quantifiers, as one linear walk over its source meets them:
 * enough to refuse the shapes that make V8's backtracking engine blow up,
 * without parsing regular expressions in full. Conservative: a group's
 * quantifiers and alternations count for every group around it.
 */
export interface Quantifier {
  readonly offset: number;
  /** `*`, `+`, `?` or `{`. */
  readonly char: string;
  readonly min: number;
  /** Infinity when unbounded. */
  readonly max: number;
  /** It repeats a group just closed, not a single atom. */
  readonly onGroup: boolean;
  /** That group holds a quantifier (at any depth). */
  readonly groupHasQuantifier: boolean;
  /** That group holds an alternation `|` (at any depth). */
  readonly groupHasAlternation: boolean;
}

interface Group {
  quantifier: boolean;
  alternation: boolean;
}

const BRACES = /^\{(\d{1,9})(,(\d{0,9}))?\}/;

/**
 * Walks `pattern` and asks `check` about each quantifier; returns the first
 * problem (a backreference is one), or null. Linear in the pattern's length.
 */
export function walkQuantifiers(pattern: string, check: (q: Quantifier) => string | null): string | null {
  const open: Group[] = [];
  let closed: Group | null = null; // the group just closed, while nothing follows it yet
  let inClass = false;
  let afterQuantifier = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (!inClass && /[1-9k]/.test(pattern[i + 1] ?? '')) return 'backreferences are not allowed';
      i++;
      closed = null;
      afterQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    let q: { min: number; max: number; length: number } | null = null;
    if (c === '*') q = { min: 0, max: Infinity, length: 1 };
    else if (c === '+') q = { min: 1, max: Infinity, length: 1 };
    else if (c === '?') {
      // `(?:`, `(?=`, `(?<name>`: group syntax; `a+?`: a lazy modifier. Neither repeats anything.
      if (pattern[i - 1] === '(' || afterQuantifier) {
        afterQuantifier = false;
        continue;
      }
      q = { min: 0, max: 1, length: 1 };
    } else if (c === '{') {
      const m = BRACES.exec(pattern.slice(i, i + 24));
      if (m) q = { min: Number(m[1]), max: m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]), length: m[0].length };
    }
    if (q !== null) {
      const group = closed;
      const problem = check({
        offset: i,
        char: c,
        min: q.min,
        max: q.max,
        onGroup: group !== null,
        groupHasQuantifier: group?.quantifier ?? false,
        groupHasAlternation: group?.alternation ?? false,
      });
      if (problem) return problem;
      const top = open[open.length - 1];
      if (top && (c !== '?' || group?.quantifier)) top.quantifier = true;
      i += q.length - 1;
      closed = null;
      afterQuantifier = true;
      continue;
    }
    afterQuantifier = false;
    if (c === '(') {
      open.push({ quantifier: false, alternation: false });
      closed = null;
    } else if (c === ')') {
      closed = open.pop() ?? null;
      const parent = open[open.length - 1];
      if (closed && parent) {
        parent.quantifier ||= closed.quantifier;
        parent.alternation ||= closed.alternation;
      }
    } else {
      if (c === '|' && open.length > 0) open[open.length - 1].alternation = true;
      if (c === '[') inClass = true;
      closed = null;
    }
  }
  return null;
}

/**
 * Refuses regular expressions that can backtrack catastrophically on
 * JavaScript's backtracking engine: nested quantifiers (star height above 1,
 * as in `(a+)+` or `(\w*\s?)*`) and backreferences. A conservative check: it
 * may refuse a safe pattern, never pass one with nested quantifiers.
 */
export function unsafeRegexReason(pattern: string): string | null {
  // A large finite bound ({1,100}) repeats like an unbounded one.
  return walkQuantifiers(pattern, (q) => (q.onGroup && q.groupHasQuantifier && q.max >= 100 ? `nested quantifier at offset ${q.offset}` : null));
}
