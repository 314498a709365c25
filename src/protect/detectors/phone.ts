// PHONE_NUMBER, hand-written (no libphonenumber): a candidate is a run of digit
// groups joined by single separators (space, dash, dot) and parentheses around a
// group, optionally led by '+'. It is accepted as
//  - international: '+' and an assigned E.164 country calling code, 4..14 further
//    digits (at most 15 in all); +1 numbers must be valid NANP numbers;
//  - NANP national: [1] NXX NXX XXXX as (415) 555-0132, 415-555-0132, 415.555.0132,
//    1-415-555-0132 (area and exchange start with 2..9);
//  - trunk-prefixed national (most of the world outside NANP): a leading 0 (not 00),
//    two or more groups, 9..12 digits, e.g. 020 7123 4567, 09-7625400, 090-1234-5678,
//    01 42 68 53 00, (030) 1234567; never a date-shaped run (01.02.2024 10);
//  - an unformatted run (4155550132, 13812345678, 0201234567) only with a phone
//    keyword in the 40 chars before it and no order/account/card keyword there.
// Not matched: a run glued to a word or to a preceding number (`ORD-415-555-0132`,
// `#4155550132`, `91-415-555-0132`; but `is415-555-0132`, a missing space after a
// lower-case word, is taken for the dashed/dotted NANP shape only), runs longer than 8 groups or 17 digits, IP-like
// dotted quads, card numbers and SSN shapes (3-2-4). Each candidate reads a bounded
// window: linear time.
import { type PiiSpan, isDigit, isAlnum, code, isWordChar, hasKeyword } from './common.js';

// Assigned E.164 country calling codes of two and three digits, as lookup tables indexed
// by the code's value (built once at load; the classifier reads the digits as numbers).
const CC2 = new Uint8Array(100);
for (const cc of [
  20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60, 61,
  62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
]) CC2[cc] = 1;
const CC3 = new Uint8Array(1000);
for (const [lo, hi] of [
  [211, 212], [213, 213], [216, 216], [218, 218], [220, 258], [260, 269], [290, 291], [297, 299],
  [350, 359], [370, 383], [385, 387], [389, 389], [420, 421], [423, 423], [500, 509], [590, 599],
  [670, 670], [672, 692], [800, 800], [808, 808], [850, 850], [852, 853], [855, 856], [870, 870],
  [878, 878], [880, 883], [886, 886], [888, 888], [960, 968], [970, 977], [979, 979], [992, 996], [998, 998],
] as const) CC3.fill(1, lo, hi + 1);

/** Length of the country calling code led by the digits a, b, c, or 0 when none is assigned. */
function countryCodeLength(a: number, b: number, c: number): number {
  if (a === 1 || a === 7) return 1;
  if (CC2[a * 10 + b]) return 2;
  if (CC3[a * 100 + b * 10 + c]) return 3;
  return 0;
}

/**
 * NANP: NXX NXX XXXX, N = 2..9, area not N11 (555-01xx fictional numbers are kept: test
 * data uses them). Given the digits the rule reads: the area's three and the exchange's first.
 */
function isNanp(a0: number, a1: number, a2: number, e0: number): boolean {
  return a0 >= 2 && e0 >= 2 && !(a1 === 1 && a2 === 1); // N11 service codes
}

const KEYWORDS = [
  'phone', 'phones', 'tel', 'telephone', 'mobile', 'mob', 'cell', 'cellphone', 'call', 'fax', 'whatsapp', 'sms',
  'text', 'contact', 'number', 'no', 'ph', 'dial', 'reach', 'landline', 'hotline',
];
const NEGATIVE = [
  'order', 'invoice', 'account', 'acct', 'tracking', 'reference', 'ref', 'id', 'card', 'ssn', 'iban', 'customer',
  'transaction', 'txn', 'serial', 'policy', 'member', 'routing', 'zip', 'postal', 'sku', 'isbn', 'amount', 'total',
];

// The text between two groups (a joiner), as a small int: the classifier compares kinds
// instead of sliced strings. 0 is no joiner (the candidate ends there).
const J_SPACE = 1; // ' '
const J_DASH = 2; // '-'
const J_DOT = 3; // '.'
const J_CLOSE = 4; // ')'
const J_CLOSE_SPACE = 5; // ') '
const J_CLOSE_DASH = 6; // ')-'
const J_SPACE_OPEN = 7; // ' ('
const J_DASH_OPEN = 8; // '-('
const J_SPACED_DASH = 9; // ' - '

const closes = (j: number): boolean => j === J_CLOSE || j === J_CLOSE_SPACE || j === J_CLOSE_DASH;
const opens = (j: number): boolean => j === J_SPACE_OPEN || j === J_DASH_OPEN;
/** a joiner holding a space that does not close a parenthesis */
const spaced = (j: number): boolean => j === J_SPACE || j === J_SPACE_OPEN || j === J_SPACED_DASH;

/** Kind of the joiner s[j, k) (1..3 chars of ' -.()'), 0 when it is none of the accepted ones. */
function joinerKind(s: string, j: number, k: number): number {
  const a = s.charCodeAt(j);
  if (k - j === 1) return a === 32 ? J_SPACE : a === 45 ? J_DASH : a === 46 ? J_DOT : a === 41 ? J_CLOSE : 0;
  const b = s.charCodeAt(j + 1);
  if (k - j === 2) {
    if (a === 41) return b === 32 ? J_CLOSE_SPACE : b === 45 ? J_CLOSE_DASH : 0;
    if (b === 40) return a === 32 ? J_SPACE_OPEN : a === 45 ? J_DASH_OPEN : 0;
    return 0;
  }
  return a === 32 && b === 45 && s.charCodeAt(j + 2) === 32 ? J_SPACED_DASH : 0;
}

const MAX_GROUPS = 8;
const MAX_DIGITS = 17;

/**
 * The candidate being classified. One per module, refilled by readCandidate: the scan
 * runs synchronously, and a fresh object and arrays per candidate cost more than the
 * classification itself.
 */
const cand = {
  /** groups read; readCandidate gives up at MAX_GROUPS + 1 */
  count: 0,
  /** led by '+' */
  plus: false,
  /** led by '(' alone (not '+(') */
  paren: false,
  /** offset of the first digit */
  start: 0,
  lens: new Int32Array(MAX_GROUPS + 1),
  starts: new Int32Array(MAX_GROUPS + 1),
  /** joiners[k]: kind of the joiner before group k (k >= 1) */
  joiners: new Uint8Array(MAX_GROUPS + 1),
  /** digitsUpTo[k]: digits in groups [0, k) */
  digitsUpTo: new Int32Array(MAX_GROUPS + 2),
  /** the first five digits' values (the classifier reads no further) */
  lead: new Int32Array(5),
  /** lowest k >= 1 whose joiner is spaced (MAX_GROUPS + 1 when none) */
  firstSpaced: 0,
};

/** Reads the candidate starting at `i` into `cand`; false when there is none. */
function readCandidate(s: string, i: number): boolean {
  const n = s.length;
  let j = i;
  let plus = false;
  let open = false;
  if (code(s, j) === 43) {
    plus = true;
    j++;
  }
  if (code(s, j) === 40) {
    open = true;
    j++;
  }
  if (!isDigit(code(s, j))) return false;
  const { lens, starts, joiners, digitsUpTo, lead } = cand;
  cand.plus = plus;
  cand.paren = open && !plus;
  cand.start = j;
  cand.firstSpaced = MAX_GROUPS + 1;
  let count = 0;
  let digits = 0;
  for (;;) {
    const gs = j;
    // one digit past MAX_DIGITS is enough to give up: the read stays bounded
    const stop = Math.min(n, gs + MAX_DIGITS + 1 - digits);
    while (j < stop && isDigit(s.charCodeAt(j))) j++;
    for (let x = gs; x < j && digits + (x - gs) < 5; x++) lead[digits + (x - gs)] = s.charCodeAt(x) - 48;
    lens[count] = j - gs;
    starts[count] = gs;
    count++;
    digits += j - gs;
    digitsUpTo[count] = digits;
    if (digits > MAX_DIGITS || count > MAX_GROUPS) return false;
    // joiner: up to 3 chars of [ -.()] then a digit
    let k = j;
    while (k < n && k - j < 3) {
      const c = s.charCodeAt(k);
      if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41) k++;
      else break;
    }
    if (k === j || !isDigit(code(s, k))) break;
    const jn = joinerKind(s, j, k);
    if (jn === 0) break;
    if (closes(jn)) {
      if (!open) break;
      open = false;
    }
    if (opens(jn)) {
      if (open) break;
      open = true;
    }
    joiners[count] = jn;
    if (spaced(jn) && count < cand.firstSpaced) cand.firstSpaced = count;
    j = k;
  }
  cand.count = count;
  // an unclosed '(' only counts when it led the number and closes right after the first group
  return !open;
}

/** Score for the first k groups of `cand`, 0 when they are not a phone number. */
function classify(s: string, k: number, start: number, glued: boolean): number {
  const len = cand.digitsUpTo[k]!;
  // every shape below has 8+ digits (+CC with 4+ more, NANP 10, trunk 9+, bare runs 10+)
  if (len < 8) return 0;
  const g = cand.lens;
  const jn = cand.joiners;
  const d = cand.lead;
  const d0 = d[0]!;
  const d1 = d[1]!;
  const d2 = d[2]!;
  const d3 = d[3]!;
  const d4 = d[4]!;
  const g0 = g[0]!;
  const g1 = g[1]!;
  const g2 = g[2]!;
  const g3 = g[3]!;
  // IP-like dotted quad
  if (k === 4 && jn[1] === J_DOT && jn[2] === J_DOT && jn[3] === J_DOT && g0 <= 3 && g1 <= 3 && g2 <= 3 && g3 <= 3) return 0;
  if (cand.plus) {
    const ccl = countryCodeLength(d0, d1, d2);
    if (ccl === 0 || g0 < ccl) return 0;
    if (len - ccl < 4 || len > 15) return 0;
    if (d0 === 1 && !(len === 11 && isNanp(d1, d2, d3, d4))) return 0;
    return 0.8;
  }
  // date-like
  if (k >= 3) {
    if (g0 <= 2 && g1 <= 2 && g2 === 4) return 0;
    if (g0 === 4 && g1 <= 2 && g2 <= 2) return 0;
    if (k === 3 && jn[1] === J_DOT && jn[2] === J_DOT && g0 <= 2 && g1 <= 2 && g2 === 2) return 0;
  }
  const paren = cand.paren;
  const nanp334 = k === 3 && g0 === 3 && g1 === 3 && g2 === 4 && isNanp(d0, d1, d2, d3);
  // glued to a preceding lower-case word (a missing space): only the distinctive
  // dash- or dot-separated NANP shape counts
  if (glued) return nanp334 && jn[1] === jn[2] && (jn[1] === J_DASH || jn[1] === J_DOT) ? 0.5 : 0;
  // NANP national
  if (nanp334) {
    const j1 = jn[1]!;
    const j2 = jn[2]!;
    if (paren ? closes(j1) && (j2 === J_DASH || j2 === J_SPACE || j2 === J_DOT) : j1 === j2) return 0.7;
  }
  if (!paren && k === 4 && g0 === 1 && d0 === 1 && g1 === 3 && g2 === 3 && g3 === 4 && isNanp(d1, d2, d3, d4)) return 0.7;
  // trunk-prefixed national
  if (k >= 2 && d0 === 0 && d1 !== 0 && len >= 9 && len <= 12 && g0 >= 2 && g0 <= 5) {
    if (!(k === 3 && g0 === 3 && g1 === 2 && g2 === 4)) return 0.5;
  }
  // unformatted run: needs a phone keyword before it
  if (k === 1 && !paren) {
    const shaped =
      (len === 10 && isNanp(d0, d1, d2, d3)) ||
      (len === 11 && d0 === 1 && (isNanp(d1, d2, d3, d4) || (d1 >= 3 && d1 <= 9))) ||
      (d0 === 0 && d1 !== 0 && len >= 10 && len <= 11);
    if (shaped && hasKeyword(s, start - 40, start, KEYWORDS) && !hasKeyword(s, start - 40, start, NEGATIVE)) return 0.45;
  }
  return 0;
}

/** `XX99 ABCD ` before i: i continues a run grouped by four (an IBAN's, a reference's). */
function afterFourGroups(s: string, i: number): boolean {
  let digit = false;
  let k = i;
  for (let t = 0; t < 2; t++) {
    if (code(s, k - 1) !== 32) return false;
    for (let x = k - 5; x < k - 1; x++) {
      const c = code(s, x);
      if (!(isDigit(c) || (c >= 65 && c <= 90))) return false;
      if (isDigit(c)) digit = true;
    }
    k -= 5;
    if (t === 0 && isWordChar(code(s, k - 1))) return false;
  }
  return digit && !isWordChar(code(s, k - 1));
}

/** 0: not a start; 1: a clean start; 2: glued to a preceding lower-case word (`is415-555-0132`). */
function phoneLeftBoundary(s: string, i: number): 0 | 1 | 2 {
  const p = code(s, i - 1);
  if (p < 0) return 1;
  if (p >= 97 && p <= 122 && isDigit(code(s, i))) return 2;
  if (isWordChar(p) || p === 35 /* # */ || p === 43 /* + */) return 0;
  const pp = code(s, i - 2);
  if ((p === 45 || p === 47 || p === 95 || p === 46 || p === 44 || p === 32) && isDigit(pp)) return 0;
  if ((p === 45 || p === 47 || p === 95 || p === 46) && isAlnum(pp)) return 0;
  if (p === 32 && afterFourGroups(s, i)) return 0;
  return 1;
}

/** A char a phone number can hold: digits, '+', and the joiners' ' -.()'. */
const isNumberChar = (c: number): boolean =>
  isDigit(c) || c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 43;

export function detectPhones(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Skip ahead: an accepted number has 8+ digits, so it spans 8+ chars of digits, '+'
    // and joiner chars. When the char 7 ahead is none of those, no number starts in
    // [i, i + 7] (and i + 8 is not inside a digit run).
    if (i + 7 < n && !isNumberChar(text.charCodeAt(i + 7))) {
      i += 8;
      continue;
    }
    const c = text.charCodeAt(i);
    const digit = isDigit(c);
    // most chars start nothing: a number starts with a digit, '+' or '('
    if (!digit && c !== 43 && c !== 40) {
      i++;
      continue;
    }
    const shape = digit || isDigit(code(text, i + 1)) || (c === 43 && code(text, i + 1) === 40 && isDigit(code(text, i + 2)));
    const lb = shape ? phoneLeftBoundary(text, i) : 0;
    // fewer than 8 digits in all: no prefix of the candidate is a phone number (see classify)
    if (lb !== 0 && readCandidate(text, i) && cand.digitsUpTo[cand.count]! >= 8) {
      const count = cand.count;
      let end = cand.starts[count - 1]! + cand.lens[count - 1]!;
      // nothing when the candidate is glued to a word on its right
      let score = 0;
      if (!isWordChar(code(text, end))) {
        score = classify(text, count, i, lb === 2);
        // else a shorter prefix, only where a plain space (not '-', '.') parts it from what
        // follows and the number itself is not space-grouped (then the split would be a
        // guess): that is the prefix ending at the first spaced joiner, if a plain space
        const k = cand.firstSpaced;
        if (score === 0 && k < count && cand.joiners[k] === J_SPACE) {
          end = cand.starts[k - 1]! + cand.lens[k - 1]!;
          score = classify(text, k, i, lb === 2);
        }
      }
      if (score > 0) {
        out.push({ entity: 'PHONE_NUMBER', start: i, end, score });
        i = end;
        continue;
      }
    }
    i++;
    if (digit) while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  return out;
}
