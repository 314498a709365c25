// IBAN_CODE: country code, two check digits and the BBAN, of the country's registered
// length, with the ISO 7064 mod-97 check. Written either without separators or in
// groups of four with one consistent separator (space or dash). Letters in either case
// (the printed form is upper case; people type lower case, and the check digits do not
// depend on it). Each candidate reads at most ~45 chars: linear.
import { type PiiSpan, isDigit, isAlpha, code, isWordChar } from './common.js';

/** IBAN lengths by country (SWIFT IBAN registry and the countries Presidio knows). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
  // French overseas territories use the French format
  GF: 27, GP: 27, MQ: 27, RE: 27, PF: 27, TF: 27, YT: 27, NC: 27, PM: 27, WF: 27, BL: 27, MF: 27,
};

/** A letter's value in the check: A or a is 10, Z or z 35. */
const letterValue = (c: number): number => (c | 32) - 87;

/** mod-97 of the rearranged IBAN (BBAN + country + check digits, letters as 10..35) === 1 */
export function ibanChecksumOk(compact: string): boolean {
  let rem = 0;
  const n = compact.length;
  for (let k = 0; k < n; k++) {
    const c = compact.charCodeAt((k + 4) % n);
    if (isDigit(c)) rem = (rem * 10 + (c - 48)) % 97;
    else if (isAlpha(c)) rem = (rem * 100 + letterValue(c)) % 97;
    else return false;
  }
  return rem === 1;
}

export function isValidIban(compact: string): boolean {
  const len = IBAN_LENGTHS[compact.slice(0, 2).toUpperCase()];
  if (len === undefined || compact.length !== len) return false;
  if (!isDigit(compact.charCodeAt(2)) || !isDigit(compact.charCodeAt(3))) return false;
  return ibanChecksumOk(compact);
}

/** IBAN length by country code, indexed by countryIndex (0 for an unknown code): no slice per capital letter. */
const LENGTH_BY_COUNTRY = new Uint8Array(26 * 26);
for (const [cc, len] of Object.entries(IBAN_LENGTHS)) LENGTH_BY_COUNTRY[(cc.charCodeAt(0) - 65) * 26 + (cc.charCodeAt(1) - 65)] = len;

/** The IBAN length for the country code s[i, i + 2), 0 when none (the caller checked s[i] is a letter). */
function countryLength(s: string, i: number): number {
  const b = code(s, i + 1);
  // `& ~32` upper-cases an ASCII letter
  return isAlpha(b) ? LENGTH_BY_COUNTRY[((s.charCodeAt(i) & ~32) - 65) * 26 + ((b & ~32) - 65)]! : 0;
}

const isIbanChar = (c: number): boolean => isDigit(c) || isAlpha(c);
const isIbanTextChar = (c: number): boolean => isIbanChar(c) || c === 32 || c === 45;

/** End of the IBAN of `len` chars (separators not counted) starting at `i`, or -1 when there is none. */
function ibanEnd(s: string, i: number, len: number): number {
  // ungrouped
  let j = i;
  while (j < i + len && isIbanChar(code(s, j))) j++;
  if (j === i + len && !isWordChar(code(s, j))) return j;
  // grouped: CCdd, then groups of 4, the last 1..4, one separator char
  if (j !== i + 4) return -1;
  const sep = code(s, j);
  if (sep !== 32 && sep !== 45) return -1;
  let got = 4;
  while (got < len) {
    if (code(s, j) !== sep) return -1;
    j++;
    const gs = j;
    const want = Math.min(4, len - got);
    while (j < gs + want && isIbanChar(code(s, j))) j++;
    if (j !== gs + want) return -1;
    got += want;
  }
  if (isWordChar(code(s, j))) return -1;
  return j;
}

/**
 * ibanChecksumOk on the IBAN in s[i, end) as written: the rearranged order (BBAN, then
 * the first four chars) is read in place, separators skipped, no compact copy built.
 */
function checksumInPlace(s: string, i: number, end: number): boolean {
  let rem = 0;
  for (let k = i + 4; k < end; k++) {
    const c = s.charCodeAt(k);
    if (isDigit(c)) rem = (rem * 10 + (c - 48)) % 97;
    else if (isAlpha(c)) rem = (rem * 100 + letterValue(c)) % 97;
    // else a separator (ibanEnd let only IBAN chars and the separator through)
  }
  for (let k = i; k < i + 4; k++) {
    const c = s.charCodeAt(k);
    rem = isDigit(c) ? (rem * 10 + (c - 48)) % 97 : (rem * 100 + letterValue(c)) % 97;
  }
  return rem === 1;
}

/** Letters of s[i, end) all of one case: `DE89 AbCD ...` is not how an IBAN is written. */
function oneCase(s: string, i: number, end: number): boolean {
  let upper = false;
  let lower = false;
  for (let k = i; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c >= 65 && c <= 90) upper = true;
    else if (c >= 97 && c <= 122) lower = true;
  }
  return !(upper && lower);
}

export function detectIbans(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  // the shortest IBAN (Norway) has 15 chars
  while (i + 15 <= n) {
    // Skip ahead: every char of an IBAN as written is a letter, a digit or its separator,
    // so when the 15th char from i is none of those, no IBAN starts in [i, i + 14].
    if (!isIbanTextChar(text.charCodeAt(i + 14))) {
      i += 15;
      continue;
    }
    const c = text.charCodeAt(i);
    if (!isAlpha(c) || isWordChar(code(text, i - 1))) {
      i++;
      continue;
    }
    const len = countryLength(text, i);
    if (len !== 0 && isDigit(text.charCodeAt(i + 2)) && isDigit(text.charCodeAt(i + 3))) {
      const end = ibanEnd(text, i, len);
      if (end >= 0 && checksumInPlace(text, i, end) && oneCase(text, i, end)) {
        out.push({ entity: 'IBAN_CODE', start: i, end, score: 0.95 });
        i = end;
        continue;
      }
    }
    i++;
  }
  return out;
}
