// PHONE_NUMBER: a candidate is a run of digit groups joined by short separators
// (space, dash, dot, slash, parentheses around a group), optionally led by '+', '(+'
// or the international prefix 00, optionally followed by an extension (x123, ext. 123,
// #123). It is found by a char scan; only candidates are checked, against the numbering
// plans in libphonenumber-js's metadata (see ./phone-metadata.ts):
//  - international: '+' or 00, an assigned country calling code, and a national number
//    of a length possible under that code (a trunk 0 written after the code, `+49 (0)30`
//    style, is allowed); +1 numbers must be NANP-shaped (area and exchange 2..9);
//  - NANP national: [1] NXX NXX XXXX as (415) 555-0132, 415-555-0132, 415.555.0132,
//    1-415-555-0132, when a NANP region is among the configured ones;
//  - trunk-prefixed national: the national prefix of a configured region (0 in most,
//    8, 06), two or more groups, a length possible in that region: 020 7123 4567,
//    09-7625400, 01 42 68 53 00, (030) 1234567; never a date-shaped run;
//  - anything else of a possible national length (a bare run, groups without a trunk
//    prefix: 94 764 97 62, (79) 26206-5732) only with context: a phone word in the
//    chars before it (up to the previous number, at most 40) and no order/account word
//    there, or a JSON key naming a phone (`phone`, `tel`, `mobile`, ...).
// Not matched: a run glued to a word or to a preceding number (`ORD-415-555-0132`,
// `#4155550132`, `91-415-555-0132`; but `is415-555-0132`, a missing space after a
// lower-case word, is taken for the dashed/dotted NANP shape only), runs longer than
// 8 groups or 17 digits, IP-like dotted quads, card numbers and SSN shapes (3-2-4).
// Each candidate reads a bounded window: linear time.
import { type PiiSpan, isDigit, isAlnum, isAlpha, code, isWordChar, hasKeyword, keyHas, compileKeywords } from './common.js';
import { CC_LENGTHS, DEFAULT_REGIONS, nationalPlan, type NationalPlan } from './phone-metadata.js';

/** Length of the country calling code led by the digits a, b, c, or 0 when none is assigned (codes are prefix-free). */
function countryCodeLength(a: number, b: number, c: number): number {
  if (CC_LENGTHS[a]) return 1;
  if (a > 0 && CC_LENGTHS[a * 10 + b]) return 2;
  if (a > 0 && CC_LENGTHS[a * 100 + b * 10 + c]) return 3;
  return 0;
}

/**
 * NANP: NXX NXX XXXX, N = 2..9, area not N11 (555-01xx fictional numbers are kept: test
 * data uses them). Given the digits the rule reads: the area's three and the exchange's first.
 */
function isNanp(a0: number, a1: number, a2: number, e0: number): boolean {
  return a0 >= 2 && e0 >= 2 && !(a1 === 1 && a2 === 1); // N11 service codes
}

/** Phone words of the common languages (whole words, case-insensitive). */
const KEYWORDS = compileKeywords([
  // English
  'phone', 'phones', 'tel', 'telephone', 'mobile', 'mob', 'cell', 'cellphone', 'call', 'fax', 'whatsapp', 'sms',
  'text', 'contact', 'number', 'no', 'ph', 'dial', 'reach', 'landline', 'hotline',
  // German, Dutch, Scandinavian, Polish, Czech, Hungarian, Finnish, Turkish
  'telefon', 'telefonnummer', 'rufnummer', 'handy', 'mobil', 'mobilnummer', 'anrufen', 'rufen', 'nummer', 'kontakt',
  'telefoon', 'mobiel', 'bellen', 'tlf', 'ring', 'telefonu', 'numer', 'komórka', 'komorka', 'puhelin', 'telefonszám', 'cep',
  // French, Spanish, Italian, Portuguese, Romanian
  'téléphone', 'tél', 'portable', 'numéro', 'appeler', 'appelez', 'teléfono', 'telefono', 'móvil', 'movil', 'celular',
  'llamar', 'llame', 'número', 'numero', 'cellulare', 'chiamare', 'chiama', 'telefone', 'ligar', 'ligue', 'contato',
  'contacto', 'contatto',
]);
const NEGATIVE = compileKeywords([
  'order', 'invoice', 'account', 'acct', 'tracking', 'reference', 'ref', 'id', 'card', 'ssn', 'iban', 'customer',
  'transaction', 'txn', 'serial', 'policy', 'member', 'routing', 'zip', 'postal', 'sku', 'isbn', 'amount', 'total',
]);
/** JSON keys that name a phone number (substrings, case-insensitive) and keys that name something else. */
const KEY_WORDS = ['phone', 'tel', 'mobil', 'cell', 'fax', 'whatsapp', 'handy', 'contact', 'movil', 'móvil', 'portable'];
const KEY_NEGATIVE = ['order', 'invoice', 'account', 'track', 'isbn', 'total', 'price', 'version', 'date', 'time', 'zip', 'postal', 'sku', 'serial', 'ssn', 'card', 'iban', 'amount'];

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
const J_SLASH = 10; // '/'

const closes = (j: number): boolean => j === J_CLOSE || j === J_CLOSE_SPACE || j === J_CLOSE_DASH;
const opens = (j: number): boolean => j === J_SPACE_OPEN || j === J_DASH_OPEN;
/** a joiner holding a space that does not close a parenthesis */
const spaced = (j: number): boolean => j === J_SPACE || j === J_SPACE_OPEN || j === J_SPACED_DASH;

/** Kind of the joiner s[j, k) (1..3 chars of ' -.()/'), 0 when it is none of the accepted ones. */
function joinerKind(s: string, j: number, k: number): number {
  const a = s.charCodeAt(j);
  if (k - j === 1) return a === 32 ? J_SPACE : a === 45 ? J_DASH : a === 46 ? J_DOT : a === 41 ? J_CLOSE : a === 47 ? J_SLASH : 0;
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
const LEAD = 8;

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
  /** the first eight digits' values (the classifier reads no further) */
  lead: new Int32Array(LEAD),
  /** lowest k >= 1 whose joiner is spaced (MAX_GROUPS + 1 when none) */
  firstSpaced: 0,
  /** the run went on past MAX_DIGITS or MAX_GROUPS: groups [0, count) were read, the whole is no number */
  overflow: false,
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
    // '(+62) 21 ...': the country code in parentheses
    if (!plus && code(s, j) === 43) {
      plus = true;
      j++;
    }
  }
  if (!isDigit(code(s, j))) return false;
  const { lens, starts, joiners, digitsUpTo, lead } = cand;
  cand.plus = plus;
  cand.paren = open && !plus;
  cand.start = j;
  cand.firstSpaced = MAX_GROUPS + 1;
  cand.overflow = false;
  let count = 0;
  let digits = 0;
  for (;;) {
    const gs = j;
    // one digit past MAX_DIGITS is enough to give up: the read stays bounded
    const stop = Math.min(n, gs + MAX_DIGITS + 1 - digits);
    while (j < stop && isDigit(s.charCodeAt(j))) j++;
    for (let x = gs; x < j && digits + (x - gs) < LEAD; x++) lead[digits + (x - gs)] = s.charCodeAt(x) - 48;
    lens[count] = j - gs;
    starts[count] = gs;
    count++;
    digits += j - gs;
    digitsUpTo[count] = digits;
    if (digits > MAX_DIGITS || count > MAX_GROUPS) {
      // too long to be one number: only a prefix up to a space can be (see scanPhones)
      count--;
      cand.overflow = true;
      break;
    }
    // joiner: up to 3 chars of [ -.()/] then a digit
    let k = j;
    while (k < n && k - j < 3) {
      const c = s.charCodeAt(k);
      if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 47) k++;
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
  if (count === 0) return false;
  // an unclosed '(' only counts when it led the number and closes right after the first group
  return cand.overflow || !open;
}

/** Whether the 4 digits at i read as a year of the last or this century (19xx, 20xx). */
function yearAt(s: string, i: number): boolean {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  return (a === 49 && b === 57) || (a === 50 && b === 48);
}

/** Whether the lead digits start with the digits of `prefix`. */
function leadStarts(prefix: string): boolean {
  for (let x = 0; x < prefix.length; x++) if (cand.lead[x] !== prefix.charCodeAt(x) - 48) return false;
  return true;
}

/** `id`, `phone_id`, `phoneId`, `PHONE_ID`: an identifier, not the number (`provider` is no id). */
function isIdKey(key: string): boolean {
  const n = key.length;
  if (n < 2) return false;
  const a = key.charCodeAt(n - 2);
  const b = key.charCodeAt(n - 1);
  if (!((a === 73 || a === 105) && (b === 68 || b === 100))) return false; // ends in id, Id, ID
  if (n === 2) return true;
  const before = key.charCodeAt(n - 3);
  return before === 95 || before === 45 || a === 73; // _id, -id, or an upper-case I starting a word
}

/**
 * A phone word before `start` (back to the previous digit, at most 40 chars: a word
 * belongs to the number that follows it), or a JSON key naming a phone; never with an
 * order/account word there or a key naming something else.
 */
function hasContext(s: string, start: number, key: string | null | undefined): boolean {
  if (key && keyHas(key, KEY_WORDS) && !keyHas(key, KEY_NEGATIVE) && !isIdKey(key)) return true;
  // back to the previous number: a digit not glued to a letter (`phone2:` is a word)
  let lo = start - 1;
  const floor = Math.max(0, start - 40);
  while (lo >= floor && !(isDigit(s.charCodeAt(lo)) && !isAlpha(code(s, lo - 1)))) lo--;
  return hasKeyword(s, lo + 1, start, KEYWORDS) && !hasKeyword(s, lo + 1, start, NEGATIVE);
}

/** Score for the first k groups of `cand`, 0 when they are not a phone number. */
function classify(s: string, k: number, start: number, glued: boolean, plan: NationalPlan, key: string | null | undefined): number {
  // `start`: where the candidate starts ('+' or '(' included), for the context before it
  const len = cand.digitsUpTo[k]!;
  // the shortest national numbers in the plans have 7 digits with their prefix
  if (len < 7) return 0;
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
  // how people group a number: the last group of 2+ digits, dots only with dots, one slash at most
  if (k > 1 && g[k - 1]! < 2) return 0;
  let dots = 0;
  let slashes = 0;
  for (let x = 1; x < k; x++) {
    if (jn[x] === J_DOT) dots++;
    else if (jn[x] === J_SLASH) slashes++;
  }
  if ((dots > 0 && dots < k - 1) || slashes > 1) return 0;
  // IP-like dotted quad
  if (k === 4 && jn[1] === J_DOT && jn[2] === J_DOT && jn[3] === J_DOT && g0 <= 3 && g1 <= 3 && g2 <= 3 && g3 <= 3) return 0;
  // international: '+', or the 00 prefix (0041 79 ..., 001-415-...)
  const idd = cand.plus ? 0 : d0 === 0 && d1 === 0 && !cand.paren ? 2 : -1;
  if (idd >= 0) {
    if (glued || len > 15 + idd) return 0;
    const ccl = countryCodeLength(d[idd]!, d[idd + 1]!, d[idd + 2]!);
    if (ccl === 0 || (idd === 0 && g0 < ccl)) return 0;
    const cc = ccl === 1 ? d[idd]! : ccl === 2 ? d[idd]! * 10 + d[idd + 1]! : d[idd]! * 100 + d[idd + 1]! * 10 + d[idd + 2]!;
    const nsn = len - idd - ccl;
    if (cc === 1) return nsn === 10 && isNanp(d[idd + 1]!, d[idd + 2]!, d[idd + 3]!, d[idd + 4]!) ? 0.8 : 0;
    const lengths = CC_LENGTHS[cc]!;
    // a trunk 0 written after the code: +49 (0)30 ..., +49-0301-...
    const ok = (lengths & (1 << nsn)) !== 0 || (d[idd + ccl] === 0 && (lengths & (1 << (nsn - 1))) !== 0);
    if (ok) return idd === 0 ? 0.8 : 0.6;
    // a length the plan does not know (numbering changes, sloppy data): E.164's bounds and context
    return nsn >= 6 && nsn <= 14 && hasContext(s, start, key) ? 0.5 : 0;
  }
  // a decimal number (a coordinate, an amount)
  if (k === 2 && jn[1] === J_DOT) return 0;
  // date-like: DD MM YYYY, YYYY MM DD (a year starts 19 or 20), DD.MM.YY
  if (k >= 3) {
    if (g0 <= 2 && g1 <= 2 && g2 === 4 && yearAt(s, cand.starts[2]!)) return 0;
    if (g0 === 4 && g1 <= 2 && g2 <= 2 && yearAt(s, cand.starts[0]!)) return 0;
    if (k === 3 && jn[1] === J_DOT && jn[2] === J_DOT && g0 <= 2 && g1 <= 2 && g2 === 2) return 0;
  }
  const paren = cand.paren;
  const nanp334 = plan.nanp && k === 3 && g0 === 3 && g1 === 3 && g2 === 4 && isNanp(d0, d1, d2, d3);
  // glued to a preceding lower-case word (a missing space): only the distinctive
  // dash- or dot-separated NANP shape counts
  if (glued) return nanp334 && jn[1] === jn[2] && (jn[1] === J_DASH || jn[1] === J_DOT) ? 0.5 : 0;
  // NANP national
  if (nanp334) {
    const j1 = jn[1]!;
    const j2 = jn[2]!;
    if (paren ? closes(j1) && (j2 === J_DASH || j2 === J_SPACE || j2 === J_DOT) : j1 === j2) return 0.7;
  }
  if (plan.nanp && !paren && k === 4 && g0 === 1 && d0 === 1 && g1 === 3 && g2 === 3 && g3 === 4 && isNanp(d1, d2, d3, d4)) return 0.7;
  const ssnShape = k === 3 && g0 === 3 && g1 === 2 && g2 === 4;
  // trunk-prefixed national: a configured region's national prefix, then a digit that starts no other prefix
  let prefixed = false;
  for (const { prefix, mask } of plan.withPrefix) {
    // NANP's national prefix 1 has its own shapes above
    if (prefix === '1' || !leadStarts(prefix) || d[prefix.length] === 0 || (mask & (1 << len)) === 0) continue;
    prefixed = true;
    // 9+ digits: an 8-digit run led by 0 is as often a postal code (Brazil's 01310-100)
    if (k >= 2 && len >= 9 && g0 >= prefix.length + 1 && g0 <= 6 && !ssnShape) return 0.5;
  }
  // anything else of a possible length: only with context
  if (ssnShape && !cand.paren) return 0;
  if ((prefixed || (plan.bare & (1 << len)) !== 0) && hasContext(s, start, key)) return 0.45;
  return 0;
}

/** End of an extension written after a number ending at `end` (` x4587`, `ext. 12`, `#12`), or `end` when there is none. */
function extensionEnd(s: string, end: number): number {
  let j = end;
  if (code(s, j) === 32) j++;
  const c = code(s, j);
  if (c === 120 || c === 88) j++; // x X
  else if (c === 35) j++; // #
  else if ((c | 32) === 101 && (code(s, j + 1) | 32) === 120 && (code(s, j + 2) | 32) === 116) {
    j += 3; // ext
    if (code(s, j) === 46) j++;
  } else return end;
  if (code(s, j) === 32) j++;
  const ds = j;
  while (j < s.length && j - ds < 7 && isDigit(s.charCodeAt(j))) j++;
  if (j === ds || j - ds > 6 || isWordChar(code(s, j))) return end;
  return j;
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
  // after a number and a space, only a '+' starts a new one (`PO-2272-2054 +420601950750`)
  if (p === 32 && isDigit(pp) && s.charCodeAt(i) === 43) return 1;
  if ((p === 45 || p === 47 || p === 95 || p === 46 || p === 44 || p === 32) && isDigit(pp)) return 0;
  if ((p === 45 || p === 47 || p === 95 || p === 46) && isAlnum(pp)) return 0;
  if (p === 32 && afterFourGroups(s, i)) return 0;
  return 1;
}

/** A char a phone number can hold: digits, '+', and the joiners' ' -.()/'. */
const isNumberChar = (c: number): boolean =>
  isDigit(c) || c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 43 || c === 47;

const plans = new Map<string, NationalPlan>();
/** The plan for a region list, kept per distinct list (callers configure few). */
export function planFor(regions: readonly string[] | undefined): NationalPlan {
  const list = regions && regions.length > 0 ? regions : DEFAULT_REGIONS;
  const id = list.join(',');
  let plan = plans.get(id);
  if (!plan) {
    if (plans.size >= 64) plans.clear();
    plans.set(id, (plan = nationalPlan(list)));
  }
  return plan;
}

const defaultPlan = planFor(DEFAULT_REGIONS);

export function detectPhones(text: string, key?: string | null): PiiSpan[] {
  return scanPhones(text, key, defaultPlan);
}

/** A phone detector for national numbers of these regions (ISO 3166 codes); international numbers always count. */
export function phoneDetector(regions: readonly string[]): (text: string, key?: string | null) => PiiSpan[] {
  const plan = planFor(regions);
  return (text, key) => scanPhones(text, key, plan);
}

function scanPhones(text: string, key: string | null | undefined, plan: NationalPlan): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Skip ahead: an accepted number has 7+ digits, so it spans 7+ chars of digits, '+'
    // and joiner chars. When the char 6 ahead is none of those, no number starts in
    // [i, i + 6] (and i + 7 is not inside a digit run).
    if (i + 6 < n && !isNumberChar(text.charCodeAt(i + 6))) {
      i += 7;
      continue;
    }
    const c = text.charCodeAt(i);
    const digit = isDigit(c);
    // most chars start nothing: a number starts with a digit, '+' or '('
    if (!digit && c !== 43 && c !== 40) {
      i++;
      continue;
    }
    const shape =
      digit || isDigit(code(text, i + 1)) || ((c === 43 || c === 40) && (code(text, i + 1) === 40 || code(text, i + 1) === 43) && isDigit(code(text, i + 2)));
    const lb = shape ? phoneLeftBoundary(text, i) : 0;
    // fewer than 7 digits in all: no prefix of the candidate is a phone number (see classify)
    if (lb !== 0 && readCandidate(text, i) && cand.digitsUpTo[cand.count]! >= 7) {
      const count = cand.count;
      let end = cand.starts[count - 1]! + cand.lens[count - 1]!;
      // after a '(+62)' the number's last group is followed by nothing of it
      let score = 0;
      const ext = extensionEnd(text, end);
      if (cand.overflow || !isWordChar(code(text, ext))) {
        score = cand.overflow ? 0 : classify(text, count, i, lb === 2, plan, key);
        // else (or when the whole only passed on context) a shorter prefix, only where a
        // plain space (not '-', '.') parts it from what follows and the number itself is
        // not space-grouped (then the split would be a guess): that is the prefix ending
        // at the first spaced joiner, if a plain space
        const k = cand.firstSpaced;
        let prefix = 0;
        // (after an overflow, groups [0, count] hold the joiner to the dropped group too)
        if (score < 0.5 && k < count + (cand.overflow ? 1 : 0) && cand.joiners[k] === J_SPACE) prefix = classify(text, k, i, lb === 2, plan, key);
        if (prefix > score) {
          end = cand.starts[k - 1]! + cand.lens[k - 1]!;
          score = prefix;
        } else if (score > 0) end = ext;
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
