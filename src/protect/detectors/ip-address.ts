// IP_ADDRESS (optional): IPv4 dotted quads and IPv6 addresses. A candidate is a maximal
// run of the address's chars not glued to a word; node:net decides whether it is an
// address (no hand-written grammar). Runs are read once and capped at 45 chars (the
// longest IPv6 text form): linear.
import { isIPv4, isIPv6 } from 'node:net';
import { type PiiSpan, isDigit, code, isWordChar } from './common.js';

const MAX = 45;
const isHex = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isAddrChar = (c: number): boolean => isHex(c) || c === 58 /* : */ || c === 46 /* . */;

export function detectIpAddresses(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isAddrChar(c) || (i > 0 && (isAddrChar(text.charCodeAt(i - 1)) || isWordChar(text.charCodeAt(i - 1))))) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && j - i <= MAX && isAddrChar(text.charCodeAt(j))) j++;
    // a trailing '.' or ':' ends a sentence or a label, not the address ('::' may end one)
    let end = j;
    while (end > i && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 58) && !(text.charCodeAt(end - 1) === 58 && code(text, end - 2) === 58)) end--;
    let colons = 0;
    let dots = 0;
    for (let k = i; k < end; k++) {
      const d = text.charCodeAt(k);
      if (d === 58) colons++;
      else if (d === 46) dots++;
    }
    if (j - i <= MAX && !isWordChar(code(text, j)) && (colons >= 2 || dots === 3)) {
      const cand = text.slice(i, end);
      if (colons >= 2 ? isIPv6(cand) && /[0-9a-fA-F]/.test(cand) : isIPv4(cand)) {
        out.push({ entity: 'IP_ADDRESS', start: i, end, score: 0.8 });
        i = j;
        continue;
      }
    }
    // past the whole run: a run over the cap is read once, not again from each of its chars
    while (j < n && isAddrChar(text.charCodeAt(j))) j++;
    i = j;
  }
  return out;
}
