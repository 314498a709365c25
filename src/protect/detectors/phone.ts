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

const CC2 = new Set([
  20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60, 61,
  62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
]);
const CC3_RANGES: ReadonlyArray<readonly [number, number]> = [
  [211, 212], [213, 213], [216, 216], [218, 218], [220, 258], [260, 269], [290, 291], [297, 299],
  [350, 359], [370, 383], [385, 387], [389, 389], [420, 421], [423, 423], [500, 509], [590, 599],
  [670, 670], [672, 692], [800, 800], [808, 808], [850, 850], [852, 853], [855, 856], [870, 870],
  [878, 878], [880, 883], [886, 886], [888, 888], [960, 968], [970, 977], [979, 979], [992, 996], [998, 998],
];

/** Length of the country calling code at the start of `d`, or 0 when none is assigned. */
export function countryCodeLength(d: string): number {
  if (d[0] === '1' || d[0] === '7') return 1;
  if (d.length >= 2 && CC2.has(Number(d.slice(0, 2)))) return 2;
  if (d.length >= 3) {
    const v = Number(d.slice(0, 3));
    for (const [lo, hi] of CC3_RANGES) if (v >= lo && v <= hi) return 3;
  }
  return 0;
}

/** NANP: NXX NXX XXXX, N = 2..9, area not N11 (555-01xx fictional numbers are kept: test data uses them). */
export function isNanp(d: string): boolean {
  if (d.length !== 10) return false;
  const a = d.charCodeAt(0);
  const e = d.charCodeAt(3);
  if (a < 50 || e < 50) return false;
  if (d[1] === '1' && d[2] === '1') return false; // N11 service codes
  return true;
}

const KEYWORDS = [
  'phone', 'phones', 'tel', 'telephone', 'mobile', 'mob', 'cell', 'cellphone', 'call', 'fax', 'whatsapp', 'sms',
  'text', 'contact', 'number', 'no', 'ph', 'dial', 'reach', 'landline', 'hotline',
];
const NEGATIVE = [
  'order', 'invoice', 'account', 'acct', 'tracking', 'reference', 'ref', 'id', 'card', 'ssn', 'iban', 'customer',
  'transaction', 'txn', 'serial', 'policy', 'member', 'routing', 'zip', 'postal', 'sku', 'isbn', 'amount', 'total',
];

interface Cand {
  groups: number[];
  starts: number[];
  /** joiner text before group k (index 0 is the text before the first group: '', '+', '(' or '+(') */
  joiners: string[];
  end: number;
  plus: boolean;
}

const MAX_GROUPS = 8;
const MAX_DIGITS = 17;

function isJoiner(j: string): boolean {
  switch (j) {
    case ' ':
    case '-':
    case '.':
    case ') ':
    case ')':
    case ' (':
    case ')-':
    case '-(':
    case ' - ':
      return true;
    default:
      return false;
  }
}

function readCandidate(s: string, i: number): Cand | null {
  let j = i;
  let plus = false;
  let lead = '';
  if (code(s, j) === 43) {
    plus = true;
    lead = '+';
    j++;
  }
  if (code(s, j) === 40) {
    lead += '(';
    j++;
  }
  if (!isDigit(code(s, j))) return null;
  const groups: number[] = [];
  const starts: number[] = [];
  const joiners: string[] = [lead];
  let digits = 0;
  let open = lead.endsWith('(');
  for (;;) {
    const gs = j;
    while (j < s.length && isDigit(s.charCodeAt(j)) && digits + (j - gs) <= MAX_DIGITS) j++;
    groups.push(j - gs);
    starts.push(gs);
    digits += j - gs;
    if (digits > MAX_DIGITS || groups.length > MAX_GROUPS) return null;
    // joiner: up to 3 chars of [ -.()] then a digit
    let k = j;
    while (k < s.length && k - j < 3) {
      const c = s.charCodeAt(k);
      if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41) k++;
      else break;
    }
    if (k === j || !isDigit(code(s, k))) break;
    const jn = s.slice(j, k);
    if (!isJoiner(jn)) break;
    if (jn.includes(')')) {
      if (!open) break;
      open = false;
    }
    if (jn.includes('(')) {
      if (open) break;
      open = true;
    }
    joiners.push(jn);
    j = k;
  }
  if (open) {
    // an unclosed '(' only counts when it led the number and closes right after the first group
    return null;
  }
  return { groups, starts, joiners, end: j, plus };
}

function isDateLike(g: readonly number[], joiners: readonly string[]): boolean {
  if (g.length < 3) return false;
  if (g[0]! <= 2 && g[1]! <= 2 && g[2] === 4) return true;
  if (g[0] === 4 && g[1]! <= 2 && g[2]! <= 2) return true;
  if (g.length === 3 && joiners[1] === '.' && joiners[2] === '.' && g[0]! <= 2 && g[1]! <= 2 && g[2] === 2) return true;
  return false;
}

function isIpLike(g: readonly number[], joiners: readonly string[]): boolean {
  return g.length === 4 && joiners.slice(1).every((x) => x === '.') && g.every((x) => x <= 3);
}

/** Score for groups[0..k) of `c`, 0 when not a phone number. */
function classify(s: string, c: Cand, k: number, start: number, glued: boolean): number {
  const g = c.groups.slice(0, k);
  const joiners = c.joiners.slice(0, k);
  const end = c.starts[k - 1]! + g[k - 1]!;
  let d = '';
  for (let x = c.starts[0]!; x < end; x++) if (isDigit(s.charCodeAt(x))) d += s[x];
  if (isIpLike(g, joiners)) return 0;
  if (c.plus) {
    const ccl = countryCodeLength(d);
    if (ccl === 0) return 0;
    if (g[0]! < ccl) return 0;
    const nsn = d.length - ccl;
    if (nsn < 4 || d.length > 15 || d.length < 8) return 0;
    if (d[0] === '1' && !isNanp(d.slice(1))) return 0;
    return 0.8;
  }
  if (isDateLike(g, joiners)) return 0;
  const paren = joiners[0] === '(';
  // glued to a preceding lower-case word (a missing space): only the distinctive
  // dash- or dot-separated NANP shape counts
  if (glued) {
    const ok = g.length === 3 && g[0] === 3 && g[1] === 3 && g[2] === 4 && isNanp(d) && joiners[1] === joiners[2] && (joiners[1] === '-' || joiners[1] === '.');
    return ok ? 0.5 : 0;
  }
  // NANP national
  if (g.length === 3 && g[0] === 3 && g[1] === 3 && g[2] === 4 && isNanp(d)) {
    const j1 = joiners[1]!;
    const j2 = joiners[2]!;
    if (paren ? j1.startsWith(')') && (j2 === '-' || j2 === ' ' || j2 === '.') : j1 === j2) return 0.7;
  }
  if (!paren && g.length === 4 && g[0] === 1 && d[0] === '1' && g[1] === 3 && g[2] === 3 && g[3] === 4 && isNanp(d.slice(1))) {
    return 0.7;
  }
  // trunk-prefixed national
  if (g.length >= 2 && d[0] === '0' && d[1] !== '0' && d.length >= 9 && d.length <= 12 && g[0]! >= 2 && g[0]! <= 5) {
    if (!(g.length === 3 && g[0] === 3 && g[1] === 2 && g[2] === 4)) return 0.5;
  }
  // unformatted run: needs a phone keyword before it
  if (g.length === 1 && !paren) {
    const shaped =
      (d.length === 10 && isNanp(d)) ||
      (d.length === 11 && d[0] === '1' && (isNanp(d.slice(1)) || (d.charCodeAt(1) >= 51 && d.charCodeAt(1) <= 57))) ||
      (d[0] === '0' && d[1] !== '0' && d.length >= 10 && d.length <= 11);
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

export function detectPhones(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const shape = isDigit(c) || ((c === 43 || c === 40) && (isDigit(code(text, i + 1)) || (c === 43 && code(text, i + 1) === 40 && isDigit(code(text, i + 2)))));
    const lb = shape ? phoneLeftBoundary(text, i) : 0;
    const startsHere = lb !== 0;
    if (!startsHere) {
      i++;
      if (isDigit(c)) while (i < n && isDigit(text.charCodeAt(i))) i++;
      continue;
    }
    const cand = readCandidate(text, i);
    if (cand) {
      let found = false;
      for (let k = cand.groups.length; k >= 1; k--) {
        const end = cand.starts[k - 1]! + cand.groups[k - 1]!;
        if (k < cand.groups.length) {
          // a shorter prefix only when a plain space (not '-', '.') parts it from what follows,
          // and the number itself is not space-grouped (then the split would be a guess)
          if (cand.joiners[k] !== ' ' || cand.joiners.slice(1, k).some((x) => x.includes(' ') && !x.includes(')'))) continue;
        } else {
          const after = code(text, end);
          if (isWordChar(after)) break;
        }
        const score = classify(text, cand, k, i, lb === 2);
        if (score > 0) {
          out.push({ entity: 'PHONE_NUMBER', start: i, end, score });
          i = end;
          found = true;
          break;
        }
      }
      if (found) continue;
    }
    i++;
    if (isDigit(c)) while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  return out;
}
