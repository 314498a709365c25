// US_SSN: AAA-GG-SSSS with one consistent separator (dash, space or dot), 9 bare
// digits, or the dash-only AAA-GGSSSS / AAAGG-SSSS forms. Validity: area not 000,
// 666 or 9xx; group not 00; serial not 0000; not all one digit; not a well-known
// sample (078-05-1120, 219-09-9999, 123-45-6789). Shapes without the 3-2-4 grouping
// score lower unless an SSN keyword is near.
import { type PiiSpan, isDigit, leftBoundary, spaceJoined, readGroups, code, isWordChar, hasKeyword } from './common.js';

const SAMPLES = new Set(['078051120', '219099999', '123456789', '457555462']);
const KEYWORDS = ['ssn', 'ssns', 'social security', 'social', 'ssa', 'ss#', 'ss #', 'tin', 'itin', 'taxpayer'];

export function isValidSsn(d: string): boolean {
  if (d.length !== 9) return false;
  const area = d.slice(0, 3);
  if (area === '000' || area === '666' || d[0] === '9') return false;
  if (d.slice(3, 5) === '00' || d.slice(5) === '0000') return false;
  let same = true;
  for (let i = 1; i < 9 && same; i++) same = d[i] === d[0];
  if (same) return false;
  return !SAMPLES.has(d);
}

const SEPS = [45, 32, 46]; // - space .

export function detectSsns(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    if (!leftBoundary(text, i)) {
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      continue;
    }
    let f = i;
    while (f < n && isDigit(text.charCodeAt(f))) f++;
    const first = f - i;
    if (first !== 3 && first !== 5 && first !== 9) {
      i = f;
      continue;
    }
    const run = readGroups(text, i, SEPS, 4);
    const g = run.groups;
    const end = run.end;
    const after = code(text, end);
    const okRight = after < 0 || (!isWordChar(after) && !((after === 46 || after === 44) && isDigit(code(text, end + 1))));
    let score = 0;
    if (okRight && !spaceJoined(text, i, run.sep)) {
      if (g.length === 3 && g[0] === 3 && g[1] === 2 && g[2] === 4) score = 0.6;
      else if (g.length === 1 && g[0] === 9) score = 0.3;
      else if (g.length === 2 && run.sep === 45 && ((g[0] === 3 && g[1] === 6) || (g[0] === 5 && g[1] === 4))) score = 0.3;
    }
    if (score > 0) {
      let d = '';
      for (let k = i; k < end; k++) if (isDigit(text.charCodeAt(k))) d += text[k];
      if (isValidSsn(d)) {
        if (hasKeyword(text, i - 40, i, KEYWORDS)) score += 0.3;
        out.push({ entity: 'US_SSN', start: i, end, score });
        i = end;
        continue;
      }
    }
    i = run.starts[0]! + run.groups[0]!;
  }
  return out;
}
