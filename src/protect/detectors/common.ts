// Shared types and char-code helpers for the PII detectors. Every detector is a
// single left-to-right scan over char codes (no regexes), so time is linear in
// the input: each detector visits each character a bounded number of times.

export type PiiEntity = 'CREDIT_CARD' | 'US_SSN' | 'EMAIL_ADDRESS' | 'PHONE_NUMBER' | 'IBAN_CODE';

export interface PiiSpan {
  entity: string;
  /** UTF-16 offsets into the scanned string, end exclusive. */
  start: number;
  end: number;
  /** Confidence 0..1: checksummed values score high, context-free weak shapes low. */
  score: number;
}

export type Detector = (text: string) => PiiSpan[];

export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isUpper = (c: number): boolean => c >= 65 && c <= 90;
export const isLower = (c: number): boolean => c >= 97 && c <= 122;
export const isAlpha = (c: number): boolean => isUpper(c) || isLower(c);
export const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
/** Letters and digits beyond ASCII count as word characters too (a boundary needs neither). */
export const isWordChar = (c: number): boolean =>
  isAlnum(c) || c === 95 /* _ */ || (c > 127 && c !== 0xa0 && !(c >= 0x2000 && c <= 0x206f) && c !== 0x3000);

export const code = (s: string, i: number): number => (i >= 0 && i < s.length ? s.charCodeAt(i) : -1);

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

/** True when the value ending at `end` (exclusive) is not followed by a word char or by `sep digit`. */
export function rightBoundary(s: string, end: number, seps = '-.'): boolean {
  const n = code(s, end);
  if (n < 0) return true;
  if (isWordChar(n)) return false;
  if (seps.indexOf(String.fromCharCode(n)) >= 0 && isDigit(code(s, end + 1))) return false;
  return true;
}

/** Digits of a value, separators dropped. */
export function digitsOf(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) out += s[i];
  }
  return out;
}

/**
 * Reads a run of digit groups from `i`: digits, then (one separator char from `seps`,
 * the same one throughout, then digits)*. Stops at the first other char. Returns the
 * groups' lengths, the separator used (-1 for none) and the end offset. Linear in the
 * run's length; `maxDigits` bounds the work on a long run.
 */
export interface GroupRun {
  groups: number[];
  sep: number;
  end: number;
  /** offsets at which each group starts */
  starts: number[];
}

export function readGroups(s: string, i: number, seps: readonly number[], maxGroups: number): GroupRun {
  const groups: number[] = [];
  const starts: number[] = [];
  let sep = -1;
  let j = i;
  const n = s.length;
  while (j < n && groups.length < maxGroups) {
    const gs = j;
    while (j < n && isDigit(s.charCodeAt(j))) j++;
    if (j === gs) break;
    groups.push(j - gs);
    starts.push(gs);
    const c = code(s, j);
    if (c < 0 || !seps.includes(c) || (sep >= 0 && c !== sep) || !isDigit(code(s, j + 1))) break;
    sep = c;
    j++;
  }
  const last = groups.length - 1;
  return { groups, sep, starts, end: last >= 0 ? starts[last]! + groups[last]! : i };
}

/** Whether a keyword from `words` appears (case-insensitive, whole word) in s[from, to). */
export function hasKeyword(s: string, from: number, to: number, words: readonly string[]): boolean {
  const lo = Math.max(0, from);
  const window = s.slice(lo, Math.max(lo, to)).toLowerCase();
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
