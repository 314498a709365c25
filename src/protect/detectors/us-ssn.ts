// US_SSN: AAA-GG-SSSS with one consistent separator (dash, space or dot), 9 bare
// digits, or the dash-only AAA-GGSSSS / AAAGG-SSSS forms. Validity: area not 000,
// 666 or 9xx; group not 00; serial not 0000; not all one digit; not a well-known
// sample (078-05-1120, 219-09-9999, 123-45-6789). Shapes without the 3-2-4 grouping
// score lower unless an SSN keyword is in the 40 chars before them or in the JSON key;
// 9 bare digits count only with one, or as the whole text: in a sentence a bare 9-digit
// run is as often a phone number (Spain, Czechia), an order or an account.
import { type PiiSpan, isDigit, code, digitRunEnd, leftBoundary, spaceJoined, numberEnds, readGroups, GroupRun, hasKeyword, keyHas, compileKeywords } from './common.js';

const KEYWORDS = compileKeywords(['ssn', 'ssns', 'social security', 'social', 'ssa', 'ss#', 'ss #', 'tin', 'itin', 'taxpayer']);
const KEY_WORDS = ['ssn', 'social', 'taxpayer', 'tax_id', 'taxid'];
const PHONE_KEY_WORDS = ['phone', 'tel', 'mobil', 'cell', 'fax', 'contact'];
/** well-known sample SSNs, as numbers (078-05-1120 is 78051120) */
const SAMPLES = new Set([78051120, 219099999, 123456789, 457555462]);

export function isValidSsn(d: string): boolean {
  if (d.length !== 9) return false;
  let v = 0;
  for (let i = 0; i < 9; i++) {
    const c = d.charCodeAt(i);
    if (!isDigit(c)) return false;
    v = v * 10 + (c - 48);
  }
  return validSsnNumber(v);
}

/** The SSN rules on the nine digits read as one number (they fit a double exactly). */
function validSsnNumber(v: number): boolean {
  const area = Math.floor(v / 1e6);
  if (area === 0 || area === 666 || area >= 900) return false;
  if (Math.floor(v / 1e4) % 100 === 0 || v % 1e4 === 0) return false;
  // all one digit: a multiple of 111111111 (000000000 already failed on its area)
  if (v % 111111111 === 0) return false;
  return !SAMPLES.has(v);
}

const SEPS = [45, 32, 46]; // - space .
/** 4 groups: one more than the 3-2-4 shape, so a longer run is seen as such */
const run = new GroupRun(4);

/** `(11) 98765-4321`: a dashed 5-4 run after a parenthesized area code is the rest of a phone number. */
function afterAreaCode(s: string, i: number): boolean {
  const p = code(s, i - 1) === 32 ? i - 2 : i - 1;
  return code(s, p) === 41 && isDigit(code(s, p - 1));
}

export function detectSsns(text: string, key?: string | null): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Skip ahead: an SSN's first digit run has 3+ digits, so when the char 2 ahead is no
    // digit, no run starting in [i, i + 2] can be one (and i + 3 starts no run midway).
    if (i + 2 < n && !isDigit(text.charCodeAt(i + 2))) {
      i += 3;
      continue;
    }
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    // the first group: 3 (AAA-GG-SSSS, AAA-GGSSSS), 5 (AAAGG-SSSS) or 9 digits
    const f = digitRunEnd(text, i);
    const first = f - i;
    if ((first !== 3 && first !== 5 && first !== 9) || !leftBoundary(text, i)) {
      i = f;
      continue;
    }
    readGroups(text, i, SEPS, run);
    const g = run.lens;
    const count = run.count;
    const end = run.end;
    let score = 0;
    if (count === 3 && g[0] === 3 && g[1] === 2 && g[2] === 4) score = 0.6;
    else if (count === 1 && g[0] === 9) score = 0.3;
    else if (count === 2 && run.sep === 45 && ((g[0] === 3 && g[1] === 6) || (g[0] === 5 && g[1] === 4)) && !afterAreaCode(text, i)) score = 0.3;
    if (score > 0 && numberEnds(text, end) && !spaceJoined(text, i, run.sep)) {
      let v = 0;
      for (let k = i; k < end; k++) {
        const c = text.charCodeAt(k);
        if (isDigit(c)) v = v * 10 + (c - 48);
      }
      if (validSsnNumber(v)) {
        const context = keyHas(key, KEY_WORDS) || hasKeyword(text, i - 40, i, KEYWORDS);
        if (context) score += 0.3;
        // a bare run only with context, or alone in its text (a JSON value that is just
        // this number) and not under a phone key
        if (count !== 1 || context || (i === 0 && end === n && !keyHas(key, PHONE_KEY_WORDS))) {
          out.push({ entity: 'US_SSN', start: i, end, score });
          i = end;
          continue;
        }
      }
    }
    i = f;
  }
  return out;
}
