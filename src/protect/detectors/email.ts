// EMAIL_ADDRESS: local@domain found by scanning out from each '@'. Local part: the
// RFC 5322 dot-atom characters, no leading, trailing or doubled dot, at most 64
// chars. Domain: two or more dot-separated labels of letters, digits and inner
// hyphens (at most 63 chars each, 253 in all); the last label (TLD) is 2+ letters
// or an IDNA `xn--` label. Each char is visited at most twice (once leftwards from
// the '@' after it, once rightwards from the '@' before it), so the scan is linear.
import { type PiiSpan, isAlnum, isAlpha, code } from './common.js';

/** ASCII chars of a local part (letters, digits, the dot-atom specials): a table, read per char leftwards from each '@' */
const LOCAL_ASCII = new Uint8Array(128);
for (const c of "!#$%&'*+/=?^_`{|}~-.") LOCAL_ASCII[c.charCodeAt(0)] = 1;
for (let c = 0; c < 128; c++) if (isAlnum(c)) LOCAL_ASCII[c] = 1;
const isLocal = (c: number): boolean =>
  c < 128 ? c >= 0 && LOCAL_ASCII[c] === 1 : c !== 0xa0 && !(c >= 0x2000 && c <= 0x206f) && c !== 0x3000;
const isLabel = (c: number): boolean => isAlnum(c) || c === 45;

/** End of the domain starting at `i` (exclusive), or -1 when there is no valid domain. */
function readDomain(s: string, i: number): number {
  const n = s.length;
  let j = i;
  let labels = 0;
  let lastStart = i;
  let lastEnd = i;
  let labelsEnd = -1;
  let lastTldOk = false;
  let tldEnd = -1;
  for (;;) {
    const ls = j;
    while (j < n && j - ls <= 63 && isLabel(s.charCodeAt(j))) j++;
    const len = j - ls;
    if (len === 0 || len > 63 || s.charCodeAt(ls) === 45 || s.charCodeAt(j - 1) === 45) break;
    labels++;
    lastStart = ls;
    lastEnd = j;
    lastTldOk = isTld(s, lastStart, lastEnd);
    if (labels >= 2 && lastTldOk && lastEnd - i <= 253) {
      tldEnd = lastEnd;
      labelsEnd = labels;
    }
    if (code(s, j) === 46 && isLabel(code(s, j + 1))) {
      j++;
      continue;
    }
    break;
  }
  // the domain must end where the labels end: no trailing word char glued to it
  if (tldEnd < 0 || labelsEnd !== labels || tldEnd !== lastEnd) return -1;
  const after = code(s, tldEnd);
  if (after === 64 /* @ */ || after === 95 || (after > 127 && isLocal(after))) return -1;
  return tldEnd;
}

function isTld(s: string, a: number, b: number): boolean {
  if (b - a < 2) return false;
  // an IDNA label: 'xn--' in any case (label chars are ASCII: `| 32` lower-cases a letter)
  if (b - a > 4 && (s.charCodeAt(a) | 32) === 120 && (s.charCodeAt(a + 1) | 32) === 110 && s.charCodeAt(a + 2) === 45 && s.charCodeAt(a + 3) === 45) {
    for (let k = a + 4; k < b; k++) if (!isAlnum(s.charCodeAt(k))) return false;
    return true;
  }
  for (let k = a; k < b; k++) if (!isAlpha(s.charCodeAt(k))) return false;
  return true;
}

export function detectEmails(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  let from = 0; // chars before `from` belong to an earlier match
  let at = text.indexOf('@');
  while (at >= 0) {
    // local part, leftwards
    let k = at;
    while (k > from && at - k < 64 && isLocal(text.charCodeAt(k - 1))) {
      if (text.charCodeAt(k - 1) === 46 && code(text, k) === 46) break; // '..'
      k--;
    }
    while (k < at && text.charCodeAt(k) === 46) k++; // no leading dot
    const localOk = k < at && text.charCodeAt(at - 1) !== 46 && !(at - k >= 64 && k > from && isLocal(text.charCodeAt(k - 1)));
    let next = at + 1;
    if (localOk) {
      const end = readDomain(text, at + 1);
      if (end > 0) {
        out.push({ entity: 'EMAIL_ADDRESS', start: k, end, score: 0.9 });
        from = end;
        next = end;
      }
    }
    at = text.indexOf('@', next);
  }
  return out;
}
