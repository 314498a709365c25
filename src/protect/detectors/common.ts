// Shared types and char-code helpers for the PII detectors. Every detector is a
// single left-to-right scan over char codes (no regexes), so time is linear in
// the input: each detector visits each character a bounded number of times.
// They run on every string value of every masked body, so the scan loops allocate
// nothing per candidate: group runs are read into a caller-owned scratch object,
// digits are read from the text in place instead of being copied into strings.

export type PiiEntity = 'CREDIT_CARD' | 'US_SSN' | 'EMAIL_ADDRESS' | 'PHONE_NUMBER' | 'IBAN_CODE' | 'US_ITIN' | 'UK_NHS' | 'UK_NINO' | 'IP_ADDRESS' | 'CRYPTO_WALLET';

export interface PiiSpan {
  entity: string;
  /** UTF-16 offsets into the scanned string, end exclusive. */
  start: number;
  end: number;
  /** Confidence 0..1: checksummed values score high, context-free weak shapes low. */
  score: number;
}

/**
 * A detector: the spans it finds in `text`. `key`, when the text is a JSON value, is
 * the key it sits under: context for candidates too weak to stand alone.
 */
export type Detector = (text: string, key?: string | null) => PiiSpan[];

export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isUpper = (c: number): boolean => c >= 65 && c <= 90;
export const isLower = (c: number): boolean => c >= 97 && c <= 122;
export const isAlpha = (c: number): boolean => isUpper(c) || isLower(c);
export const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
/** Letters and digits beyond ASCII count as word characters too (a boundary needs neither). */
export const isWordChar = (c: number): boolean =>
  isAlnum(c) || c === 95 /* _ */ || (c > 127 && c !== 0xa0 && !(c >= 0x2000 && c <= 0x206f) && c !== 0x3000);

export const code = (s: string, i: number): number => (i >= 0 && i < s.length ? s.charCodeAt(i) : -1);

/** End (exclusive) of the run of ASCII digits starting at `i`. */
export function digitRunEnd(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}

/**
 * True when the value starting at `i` is not glued to a preceding word or to a
 * preceding number (a digit, then `-./,`, then this value: part of a longer grouped
 * number, or a decimal such as `3.14`). Spaces are left to `spaceJoined`.
 */
export function leftBoundary(s: string, i: number): boolean {
  const p = code(s, i - 1);
  if (p < 0) return true;
  if (isWordChar(p)) return false;
  if ((p === 45 || p === 46 || p === 44 || p === 47) && isDigit(code(s, i - 2))) return false;
  return true;
}

/**
 * A space-grouped value must not continue a space-grouped number on its left
 * (`1234 4111 1111 1111 1111`). The number on the left does not count when it is
 * itself a whole value: a bare run of 12+ digits, or the last group of a number
 * grouped with '-' or '.' (`4012-8888-8888-1881 4012 8888 8888 1881`).
 */
export function spaceJoined(s: string, i: number, sep: number): boolean {
  if (sep !== 32 || code(s, i - 1) !== 32 || !isDigit(code(s, i - 2))) return false;
  let k = i - 2;
  while (k >= 0 && i - 2 - k < 12 && isDigit(s.charCodeAt(k))) k--;
  if (i - 2 - k >= 12) return false; // a long bare run
  const c = code(s, k);
  if ((c === 45 || c === 46) && isDigit(code(s, k - 1))) return false;
  return true;
}

/** True when `end` (exclusive) ends a number: no word char, and no `.` or `,` and a digit (a decimal, a longer number) after it. */
export function numberEnds(s: string, end: number): boolean {
  const after = code(s, end);
  if (after < 0) return true;
  if (isWordChar(after)) return false;
  return !((after === 46 || after === 44) && isDigit(code(s, end + 1)));
}

/**
 * A run of digit groups, filled in by `readGroups`. Callers keep one per module and
 * reuse it, so reading a candidate allocates nothing.
 */
export class GroupRun {
  /** number of groups read */
  count = 0;
  /** the separator's char code, -1 when there is a single group */
  sep = -1;
  /** end offset (exclusive) of the last group */
  end = 0;
  /** group lengths in digits; only [0, count) is meaningful */
  readonly lens: Int32Array;
  /** `maxGroups`: readGroups stops after this many */
  constructor(maxGroups: number) {
    this.lens = new Int32Array(maxGroups);
  }
}

/**
 * Reads a run of digit groups from `i` into `run`: digits, then (one separator char
 * from `seps`, the same one throughout, then digits)*. Stops at the first other char
 * or after `run.lens.length` groups. Linear in the run's length.
 * The first group starts at `i` and must be digits (callers check).
 */
export function readGroups(s: string, i: number, seps: readonly number[], run: GroupRun): void {
  const n = s.length;
  const lens = run.lens;
  const maxGroups = lens.length;
  let count = 0;
  let sep = -1;
  let end = i;
  let j = i;
  while (j < n && count < maxGroups) {
    const gs = j;
    j = digitRunEnd(s, j);
    if (j === gs) break;
    lens[count++] = j - gs;
    end = j;
    if (j + 1 >= n) break;
    const c = s.charCodeAt(j);
    // the separator is fixed by the first one; a separator counts only before a digit
    if ((sep >= 0 ? c !== sep : seps.indexOf(c) < 0) || !isDigit(s.charCodeAt(j + 1))) break;
    sep = c;
    j++;
  }
  run.count = count;
  run.sep = sep;
  run.end = end;
}

/**
 * Whether a keyword from `words` appears (case-insensitive, whole word) in s[from, to).
 * Only the window's own chars count as neighbours: a keyword at its edge is whole.
 * A slice, toLowerCase and native indexOf per word: measured 3-4x faster than matching
 * char by char in JS on 40-char windows, and exact for chars whose lower case is longer
 * ('İ') or ASCII ('K', the Kelvin sign). Called only for a candidate already shaped
 * like the entity, so the two small strings are rare.
 */
export function hasKeyword(s: string, from: number, to: number, words: readonly string[] | Keywords): boolean {
  const lo = Math.max(0, from);
  const window = s.slice(lo, Math.max(lo, to)).toLowerCase();
  if (!Array.isArray(words)) return hasCompiled(window, words as Keywords);
  return hasWord(window, words as readonly string[]);
}

function hasWord(window: string, words: readonly string[]): boolean {
  for (const w of words) {
    let k = window.indexOf(w);
    while (k >= 0) {
      const before = code(window, k - 1);
      const after = code(window, k + w.length);
      if (!isAlpha(before) && !isAlpha(after)) return true;
      k = window.indexOf(w, k + 1);
    }
  }
  return false;
}

/**
 * A long keyword list, compiled: words of ASCII letters only are looked up in a set, one
 * lookup per run of ASCII letters in the window (the same whole-word rule: a keyword is
 * whole when no ASCII letter touches it, so it must be an entire run); the others
 * (accents, spaces) are searched as hasKeyword does.
 */
export interface Keywords {
  readonly ascii: ReadonlySet<string>;
  readonly other: readonly string[];
}

export function compileKeywords(words: readonly string[]): Keywords {
  const ascii = new Set<string>();
  const other: string[] = [];
  for (const w of words) (/^[a-z]+$/.test(w) ? ascii.add(w) : other.push(w));
  return { ascii, other };
}

function hasCompiled(window: string, k: Keywords): boolean {
  const n = window.length;
  let i = 0;
  while (i < n) {
    if (!isLower(window.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isLower(window.charCodeAt(i))) i++;
    if (k.ascii.has(window.slice(start, i))) return true;
  }
  return k.other.length > 0 && hasWord(window, k.other);
}

/**
 * Whether a JSON key names the entity: one of `words` anywhere in it, case-insensitive
 * (`ssn`, `customerSSN`, `social_security_number`, `phone_number`, `mobileTel`). Keys are
 * short; called only for a candidate already shaped like the entity.
 */
export function keyHas(key: string | null | undefined, words: readonly string[]): boolean {
  if (!key) return false;
  const k = key.length > 64 ? key.slice(0, 64).toLowerCase() : key.toLowerCase();
  for (const w of words) if (k.includes(w)) return true;
  return false;
}
