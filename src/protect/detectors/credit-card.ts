// CREDIT_CARD: 12–19 digits, bare or in groups with one consistent separator (space
// or dash): 4-4-4-4[-1..3], 4-6-5 (Amex), 4-6-4 (Diners), 4-4-4-1..3 (13–15 digits).
// Accepted only when the number passes the Luhn check and matches a known issuer's
// prefix and length.
import { type PiiSpan, isDigit, digitRunEnd, leftBoundary, spaceJoined, numberEnds, readGroups, GroupRun } from './common.js';

interface Issuer {
  name: string;
  /** inclusive prefix range, compared on the first `digits` digits */
  lo: number;
  hi: number;
  digits: number;
  minLen: number;
  maxLen: number;
}

/** An issuer range: prefixes `lo`..`hi` as written (`'0604'` keeps its leading zero: 4 digits). */
const r = (name: string, lo: string, hi: string, minLen: number, maxLen: number): Issuer => ({
  name,
  lo: Number(lo),
  hi: Number(hi),
  digits: lo.length,
  minLen,
  maxLen,
});

/**
 * Issuer identification ranges and lengths. Source: the IIN table of Wikipedia's
 * "Payment card number" article (read 2026-12-08), with the ranges and lengths the
 * common test-data generators print (faker-js 10.6 credit_card definitions, Python
 * Faker's 15-digit JCB and 12-digit Maestro). First match wins; every number must also
 * pass the Luhn check.
 */
export const ISSUERS: readonly Issuer[] = [
  r('visa', '4', '4', 13, 19),
  r('mastercard', '51', '55', 16, 16),
  r('mastercard', '2221', '2720', 16, 16),
  r('amex', '34', '34', 15, 15),
  r('amex', '37', '37', 15, 15),
  r('discover', '6011', '6011', 16, 19),
  r('discover', '644', '649', 16, 19),
  r('discover', '65', '65', 16, 19),
  r('diners', '300', '305', 14, 19),
  r('diners', '36', '36', 14, 19),
  r('diners', '38', '39', 14, 19),
  r('diners', '3095', '3095', 14, 19),
  r('jcb', '3528', '3589', 16, 19),
  // JCB's older 15-digit numbers
  r('jcb', '2131', '2131', 15, 15),
  r('jcb', '1800', '1800', 15, 15),
  r('unionpay', '62', '62', 16, 19),
  r('unionpay', '8100', '8171', 16, 19),
  r('uatp', '1', '1', 15, 15),
  r('dankort', '5019', '5019', 16, 16),
  r('mir', '2200', '2204', 16, 19),
  r('rupay', '60', '60', 16, 16),
  r('rupay', '81', '82', 16, 16),
  r('rupay', '508', '508', 16, 16),
  // Maestro: 50, 56–69 (UK Maestro 6759, 6761–6763 fall in it), and 0604 as generators print it
  r('maestro', '50', '50', 12, 19),
  r('maestro', '56', '69', 12, 19),
  r('maestro', '0604', '0604', 12, 19),
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

// Issuer prefixes are compared as numbers cut from the card's first four digits:
// dividing by 10^(4 - digits) reads the first `digits` of them (no slice, no Number()).
const CUT = [1000, 100, 10, 1];

/** The first issuer in ISSUERS whose prefix and length fit, given the first four digits as a number. */
function issuerIndex(first4: number, len: number): number {
  for (let k = 0; k < ISSUERS.length; k++) {
    const is = ISSUERS[k]!;
    if (len < is.minLen || len > is.maxLen) continue;
    const p = Math.floor(first4 / CUT[is.digits - 1]!);
    if (p >= is.lo && p <= is.hi) return k;
  }
  return -1;
}

export function issuerOf(digits: string): string | null {
  // a card has 12+ digits: the first four are always there
  if (digits.length < 4) return null;
  // Number() of '0604' is 604: the first four digits always compare as a 4-digit number
  const k = issuerIndex(Number(digits.slice(0, 4)), digits.length);
  return k < 0 ? null : ISSUERS[k]!.name;
}

export function isValidCard(digits: string): boolean {
  if (digits.length < 12 || digits.length > 19) return false;
  for (let i = 0; i < digits.length; i++) if (!isDigit(digits.charCodeAt(i))) return false;
  return cardDigitsOk(digits, 0, digits.length, digits.length);
}

/**
 * isValidCard on the `len` digits in s[start, end), separators skipped: not all one
 * digit (0000…, 1111… are placeholders), a known issuer, and the Luhn check.
 * Reads the text in place, cheapest test first.
 */
function cardDigitsOk(s: string, start: number, end: number, len: number): boolean {
  let first4 = 0;
  let seen = 0;
  let same = true;
  const d0 = s.charCodeAt(start);
  for (let k = start; k < end && seen < 4; k++) {
    const c = s.charCodeAt(k);
    if (!isDigit(c)) continue;
    first4 = first4 * 10 + (c - 48);
    seen++;
  }
  if (issuerIndex(first4, len) < 0) return false;
  // Luhn from the right, doubling every second digit
  let sum = 0;
  let dbl = false;
  for (let k = end - 1; k >= start; k--) {
    const c = s.charCodeAt(k);
    if (!isDigit(c)) continue;
    if (c !== d0) same = false;
    let d = c - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return !same && sum % 10 === 0;
}

const SEPS = [32, 45]; // space, dash
/** 6 groups: one more than any valid grouping has, so a longer run is seen as such */
const run = new GroupRun(6);

function validGrouping(g: Int32Array, count: number): boolean {
  if (count === 1) return g[0]! >= 12 && g[0]! <= 19;
  if (g[0] !== 4) return false;
  if (count === 3 && g[1] === 6 && (g[2] === 5 || g[2] === 4)) return true; // Amex, Diners
  if (count === 3) return g[1] === 4 && g[2] === 4; // 12-digit Maestro
  // 4-4-4-x (x 1..4), 4-4-4-4-x (x 1..3)
  if (count < 4 || count > 5) return false;
  for (let i = 1; i < count - 1; i++) if (g[i] !== 4) return false;
  const last = g[count - 1]!;
  return count === 4 ? last >= 1 && last <= 4 : last >= 1 && last <= 3;
}

export function detectCreditCards(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Skip ahead: a card's first digit run has 4+ digits, so when the char 3 ahead is no
    // digit, no run starting in [i, i + 3] can be one (and i + 4 starts no run midway).
    if (i + 3 < n && !isDigit(text.charCodeAt(i + 3))) {
      i += 4;
      continue;
    }
    const c = text.charCodeAt(i);
    if (!isDigit(c)) {
      i++;
      continue;
    }
    // the first digit run: a card's first group is 4 digits, or the whole 12–19 digit number
    const f = digitRunEnd(text, i);
    const first = f - i;
    if ((first !== 4 && (first < 12 || first > 19)) || !leftBoundary(text, i)) {
      i = f;
      continue;
    }
    readGroups(text, i, SEPS, run);
    let count = run.count;
    let end = run.end;
    // A bare 12–19 digit run followed by a differently shaped group: keep the run alone.
    if (count > 1 && first >= 12) {
      count = 1;
      end = f;
    }
    if (validGrouping(run.lens, count) && numberEnds(text, end) && !spaceJoined(text, i, run.sep)) {
      let digits = 0;
      for (let k = 0; k < count; k++) digits += run.lens[k]!;
      if (cardDigitsOk(text, i, end, digits)) {
        out.push({ entity: 'CREDIT_CARD', start: i, end, score: 0.95 });
        i = end;
        continue;
      }
    }
    // advance past the first group only: a later group may start nothing (not at a boundary)
    i = f;
  }
  return out;
}
