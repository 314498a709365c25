// CREDIT_CARD: 12–19 digits, bare or in groups with one consistent separator (space
// or dash): 4-4-4-4[-1..3], 4-6-5 (Amex), 4-6-4 (Diners), 4-4-4-1..3 (13–15 digits).
// Accepted only when the number passes the Luhn check and matches a known issuer's
// prefix and length.
import { type PiiSpan, isDigit, leftBoundary, spaceJoined, readGroups, code, isWordChar } from './common.js';

interface Issuer {
  name: string;
  /** inclusive prefix range, compared on the first `digits` digits */
  lo: number;
  hi: number;
  digits: number;
  minLen: number;
  maxLen: number;
}

const r = (name: string, lo: number, hi: number, minLen: number, maxLen: number): Issuer => ({
  name,
  lo,
  hi,
  digits: String(lo).length,
  minLen,
  maxLen,
});

export const ISSUERS: readonly Issuer[] = [
  r('visa', 4, 4, 13, 19),
  r('mastercard', 51, 55, 16, 16),
  r('mastercard', 2221, 2720, 16, 16),
  r('amex', 34, 34, 15, 15),
  r('amex', 37, 37, 15, 15),
  r('discover', 6011, 6011, 16, 19),
  r('discover', 644, 649, 16, 19),
  r('discover', 65, 65, 16, 19),
  r('diners', 300, 305, 14, 19),
  r('diners', 36, 36, 14, 19),
  r('diners', 38, 39, 14, 19),
  r('diners', 3095, 3095, 14, 19),
  r('jcb', 3528, 3589, 16, 19),
  r('unionpay', 62, 62, 16, 19),
  r('uatp', 1, 1, 15, 15),
  r('dankort', 5019, 5019, 16, 16),
  r('mir', 2200, 2204, 16, 19),
  r('rupay', 60, 60, 16, 16),
  r('rupay', 81, 82, 16, 16),
  r('rupay', 508, 508, 16, 16),
  // Maestro: 50, 56–69 (UK Maestro 6759, 6761–6763 fall in it)
  r('maestro', 50, 50, 12, 19),
  r('maestro', 56, 69, 12, 19),
];

export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

export function issuerOf(digits: string): string | null {
  for (const is of ISSUERS) {
    if (digits.length < is.minLen || digits.length > is.maxLen) continue;
    const p = Number(digits.slice(0, is.digits));
    if (p >= is.lo && p <= is.hi) return is.name;
  }
  return null;
}

export function isValidCard(digits: string): boolean {
  if (digits.length < 12 || digits.length > 19) return false;
  // all one digit (0000…, 1111…) is a placeholder, not a card
  let same = true;
  for (let i = 1; i < digits.length && same; i++) same = digits[i] === digits[0];
  if (same) return false;
  return issuerOf(digits) !== null && luhn(digits);
}

const SEPS = [32, 45]; // space, dash

function validGrouping(g: readonly number[]): boolean {
  if (g.length === 1) return g[0]! >= 12 && g[0]! <= 19;
  if (g[0] !== 4) return false;
  if (g.length === 3 && g[1] === 6 && (g[2] === 5 || g[2] === 4)) return true; // Amex, Diners
  // 4-4-4-x (x 1..4), 4-4-4-4-x (x 1..3)
  if (g.length < 4 || g.length > 5) return false;
  for (let i = 1; i < g.length - 1; i++) if (g[i] !== 4) return false;
  const last = g[g.length - 1]!;
  return g.length === 4 ? last >= 1 && last <= 4 : last >= 1 && last <= 3;
}

export function detectCreditCards(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) {
      i++;
      continue;
    }
    if (!leftBoundary(text, i)) {
      // skip the rest of this digit run
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      continue;
    }
    // fast path: a card's first group is 4 digits, or the whole 12–19 digit number
    let f = i;
    while (f < n && isDigit(text.charCodeAt(f))) f++;
    const first = f - i;
    if (first !== 4 && (first < 12 || first > 19)) {
      i = f;
      continue;
    }
    const run = readGroups(text, i, SEPS, 6);
    let g = run.groups;
    let end = run.end;
    // A bare 12–19 digit run followed by a differently shaped group: keep the run alone.
    if (g.length > 1 && g[0]! >= 12) {
      g = [g[0]!];
      end = i + g[0]!;
    }
    const after = code(text, end);
    const okRight =
      after < 0 ||
      (!isWordChar(after) && !((after === 46 || after === 44) && isDigit(code(text, end + 1)))) ;
    if (okRight && !spaceJoined(text, i, run.sep) && validGrouping(g)) {
      const raw = text.slice(i, end);
      const digits = g.length === 1 ? raw : raw.replace(/[ -]/g, '');
      if (isValidCard(digits)) {
        out.push({ entity: 'CREDIT_CARD', start: i, end, score: 0.95 });
        i = end;
        continue;
      }
    }
    // advance past the first group only: a later group may start nothing (not at a boundary)
    i = run.starts.length ? run.starts[0]! + run.groups[0]! : i + 1;
  }
  return out;
}
