// US_ITIN (optional): 9XX-GG-SSSS where the group is 50-65, 70-88, 90-92 or 94-99 (IRS),
// grouped with one dash or space, or 9 bare digits after a tax word or under a tax key.
import { type PiiSpan, isDigit, digitRunEnd, leftBoundary, spaceJoined, numberEnds, readGroups, GroupRun, hasKeyword, keyHas, compileKeywords } from './common.js';

const WORDS = compileKeywords(['itin', 'tin', 'taxpayer', 'tax']);
const KEYS = ['itin', 'tin', 'tax'];
const run = new GroupRun(4);

export function isValidItin(d: string): boolean {
  if (d.length !== 9 || d[0] !== '9' || !/^\d{9}$/.test(d)) return false;
  const g = Number(d.slice(3, 5));
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
}

export function detectItins(text: string, key?: string | null): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (text.charCodeAt(i) !== 57 /* 9 */ || !leftBoundary(text, i)) {
      i++;
      continue;
    }
    const f = digitRunEnd(text, i);
    if (f - i !== 3 && f - i !== 9) {
      i = f;
      continue;
    }
    readGroups(text, i, [45, 32], run);
    const g = run.lens;
    const grouped = run.count === 3 && g[0] === 3 && g[1] === 2 && g[2] === 4;
    const end = grouped ? run.end : f;
    if ((grouped || (run.count === 1 && g[0] === 9)) && numberEnds(text, end) && !spaceJoined(text, i, run.sep)) {
      let digits = '';
      for (let k = i; k < end; k++) if (isDigit(text.charCodeAt(k))) digits += text[k];
      const context = keyHas(key, KEYS) || hasKeyword(text, i - 40, i, WORDS);
      if (isValidItin(digits) && (grouped || context)) {
        out.push({ entity: 'US_ITIN', start: i, end, score: context ? 0.9 : 0.6 });
        i = end;
        continue;
      }
    }
    i = f;
  }
  return out;
}
