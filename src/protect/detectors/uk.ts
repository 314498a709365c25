// UK identifiers (optional): the NHS number (10 digits, mod-11 check digit) and the
// National Insurance number (two prefix letters, six digits, a suffix A-D).
import { type PiiSpan, isDigit, isUpper, isLower, code, isWordChar, digitRunEnd, leftBoundary, numberEnds, readGroups, GroupRun, hasKeyword, keyHas, compileKeywords } from './common.js';

/** NHS number check: weights 10..2 over the first nine digits; 11 - (sum mod 11), 11 -> 0, 10 never valid. */
export function nhsChecksumOk(d: string): boolean {
  if (d.length !== 10) return false;
  let sum = 0;
  let same = true;
  for (let k = 0; k < 10; k++) {
    const c = d.charCodeAt(k);
    if (!isDigit(c)) return false;
    if (c !== d.charCodeAt(0)) same = false;
    if (k < 9) sum += (c - 48) * (10 - k);
  }
  const check = (11 - (sum % 11)) % 11;
  return !same && check !== 10 && check === d.charCodeAt(9) - 48;
}

const NHS_WORDS = compileKeywords(['nhs', 'health', 'patient', 'chi']);
const NHS_KEYS = ['nhs', 'patient'];
const nhsRun = new GroupRun(4);

/** NHS numbers: `943 476 5919` (the printed form) anywhere; bare or dashed only after an NHS word or under an NHS key. */
export function detectNhsNumbers(text: string, key?: string | null): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const f = digitRunEnd(text, i);
    if ((f - i !== 3 && f - i !== 10) || !leftBoundary(text, i)) {
      i = f;
      continue;
    }
    readGroups(text, i, [32, 45], nhsRun);
    const g = nhsRun.lens;
    const grouped = nhsRun.count === 3 && g[0] === 3 && g[1] === 3 && g[2] === 4;
    const bare = nhsRun.count === 1 && g[0] === 10;
    const end = grouped ? nhsRun.end : f;
    if ((grouped || bare) && numberEnds(text, end)) {
      const digits = text.slice(i, end).replace(/[ -]/g, '');
      const context = keyHas(key, NHS_KEYS) || hasKeyword(text, i - 40, i, NHS_WORDS);
      if (nhsChecksumOk(digits) && (context || (grouped && nhsRun.sep === 32))) {
        out.push({ entity: 'UK_NHS', start: i, end, score: context ? 0.9 : 0.6 });
        i = end;
        continue;
      }
    }
    i = f;
  }
  return out;
}

// NI number prefixes: neither letter D, F, I, Q, U or V; the second not O; never BG, GB, KN, NK, NT, TN, ZZ.
const BAD_LETTER = new Set(['D', 'F', 'I', 'Q', 'U', 'V']);
const BAD_PREFIX = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

export function isValidNino(s: string): boolean {
  const m = /^([A-Z])([A-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])$/.exec(s.toUpperCase());
  if (!m) return false;
  const [, a, b] = m;
  return !BAD_LETTER.has(a!) && !BAD_LETTER.has(b!) && b !== 'O' && !BAD_PREFIX.has(a! + b!);
}

const isLetter = (c: number): boolean => isUpper(c) || isLower(c);

/** UK National Insurance numbers: `AB123456C`, `AB 12 34 56 C` (one case throughout). */
export function detectNinos(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  for (let i = 0; i + 9 <= n; i++) {
    if (!isLetter(text.charCodeAt(i)) || !isLetter(code(text, i + 1)) || isWordChar(code(text, i - 1))) continue;
    // spaced form: 13 chars, compact: 9
    for (const len of [9, 13]) {
      if (i + len > n || isWordChar(code(text, i + len))) continue;
      const cand = text.slice(i, i + len);
      const upper = cand.toUpperCase();
      if ((cand === upper || cand === cand.toLowerCase()) && (len === 9 ? !cand.includes(' ') : cand[2] === ' ' && cand[5] === ' ' && cand[8] === ' ' && cand[11] === ' ') && isValidNino(cand)) {
        out.push({ entity: 'UK_NINO', start: i, end: i + len, score: 0.8 });
        i += len - 1;
        break;
      }
    }
  }
  return out;
}
