// Input normalization for the threat detectors.
//
// Every function here is a single left-to-right pass over its input (no regex
// backtracking) and never produces output longer than its input, so a chain of
// them is linear in time and bounded in size.

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

function hexVal(c: number): number {
  return c < 128 ? HEX[c] : -1;
}

/** Upper bound on what a single value is normalized from (longer input is cut). */
export const MAX_NORMALIZE_INPUT = 1 << 20;

/**
 * Decode a run of bytes leniently as UTF-8. Overlong encodings (`%c0%af`,
 * `%e0%80%af`) are decoded to the code point they spell, which is exactly what
 * traversal tricks rely on; bytes that are not valid UTF-8 map to the Latin-1
 * character of the same value.
 */
function decodeBytes(bytes: number[], out: string[]): void {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      out.push(String.fromCharCode(b));
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    if (b >= 0xc0 && b < 0xe0) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b < 0xf0) {
      need = 2;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b < 0xf8) {
      need = 3;
      cp = b & 0x07;
    }
    let ok = need > 0 && i + need < n;
    if (ok) {
      for (let k = 1; k <= need; k++) {
        const c = bytes[i + k];
        if (c === undefined || (c & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (c & 0x3f);
      }
    }
    if (ok && cp <= 0x10ffff) {
      out.push(String.fromCodePoint(cp));
      i += need + 1;
    } else {
      out.push(String.fromCharCode(b));
      i++;
    }
  }
}

/** One round of percent-decoding (also IIS `%uXXXX`); `+` becomes a space when `plus` is set. */
export function urlDecodeOnce(s: string, plus: boolean): string {
  if (s.indexOf('%') < 0 && (!plus || s.indexOf('+') < 0)) return s;
  const out: string[] = [];
  const bytes: number[] = [];
  let start = 0;
  const n = s.length;
  let i = 0;
  const flushText = (end: number) => {
    if (end > start) out.push(s.slice(start, end));
  };
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 < n && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) {
        flushText(i);
        bytes.push(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
        i += 3;
        start = i;
        // keep collecting consecutive bytes
        if (i >= n || s.charCodeAt(i) !== 37) {
          decodeBytes(bytes, out);
          bytes.length = 0;
        }
        continue;
      }
      if (
        i + 5 < n &&
        (s.charCodeAt(i + 1) | 32) === 117 /* u */ &&
        hexVal(s.charCodeAt(i + 2)) >= 0 &&
        hexVal(s.charCodeAt(i + 3)) >= 0 &&
        hexVal(s.charCodeAt(i + 4)) >= 0 &&
        hexVal(s.charCodeAt(i + 5)) >= 0
      ) {
        if (bytes.length) {
          decodeBytes(bytes, out);
          bytes.length = 0;
        }
        flushText(i);
        out.push(String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16)));
        i += 6;
        start = i;
        continue;
      }
    }
    if (bytes.length) {
      decodeBytes(bytes, out);
      bytes.length = 0;
    }
    if (plus && c === 43 /* + */) {
      flushText(i);
      out.push(' ');
      i++;
      start = i;
      continue;
    }
    i++;
  }
  if (bytes.length) decodeBytes(bytes, out);
  flushText(n);
  return out.join('');
}

/** Percent-decode repeatedly (at most `rounds` times) until the value stops changing. */
export function urlDecode(s: string, plus = false, rounds = 3): string {
  let cur = s;
  for (let r = 0; r < rounds; r++) {
    const next = urlDecodeOnce(cur, plus && r === 0);
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

const NAMED_ENTITIES: Record<string, string> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  colon: ':',
  semi: ';',
  comma: ',',
  period: '.',
  lpar: '(',
  rpar: ')',
  lsqb: '[',
  rsqb: ']',
  lbrack: '[',
  rbrack: ']',
  lcub: '{',
  rcub: '}',
  lbrace: '{',
  rbrace: '}',
  sol: '/',
  bsol: '\\',
  tab: '\t',
  newline: '\n',
  excl: '!',
  num: '#',
  equals: '=',
  plus: '+',
  dollar: '$',
  percnt: '%',
  ast: '*',
  grave: '`',
  quest: '?',
  commat: '@',
  vert: '|',
  verbar: '|',
  lowbar: '_',
  hyphen: '-',
  dash: '-',
  apostrophe: "'",
};
const MAX_ENTITY_NAME = 10;

/** Decode HTML character references: common named ones and decimal/hex numeric (with or without `;`). */
export function htmlDecode(s: string): string {
  if (s.indexOf('&') < 0) return s;
  const out: string[] = [];
  const n = s.length;
  let start = 0;
  let i = 0;
  while (i < n) {
    if (s.charCodeAt(i) !== 38 /* & */) {
      i++;
      continue;
    }
    let j = i + 1;
    if (j < n && s.charCodeAt(j) === 35 /* # */) {
      j++;
      let hex = false;
      if (j < n && (s.charCodeAt(j) | 32) === 120 /* x */) {
        hex = true;
        j++;
      }
      const digitsStart = j;
      let v = 0;
      while (j < n) {
        const c = s.charCodeAt(j);
        const d = hex ? hexVal(c) : c >= 48 && c <= 57 ? c - 48 : -1;
        if (d < 0) break;
        v = v * (hex ? 16 : 10) + d;
        if (v > 0x10ffff) v = 0x10ffff + 1; // clamp, keep consuming digits
        j++;
      }
      if (j > digitsStart) {
        if (j < n && s.charCodeAt(j) === 59 /* ; */) j++;
        if (i > start) out.push(s.slice(start, i));
        out.push(v > 0 && v <= 0x10ffff ? String.fromCodePoint(v) : '\ufffd');
        start = i = j;
        continue;
      }
      i++;
      continue;
    }
    while (j < n && j - i - 1 < MAX_ENTITY_NAME) {
      const c = s.charCodeAt(j) | 32;
      if (c < 97 || c > 122) break;
      j++;
    }
    if (j > i + 1) {
      const name = s.slice(i + 1, j).toLowerCase();
      const rep = Object.prototype.hasOwnProperty.call(NAMED_ENTITIES, name) ? NAMED_ENTITIES[name] : undefined;
      const semi = j < n && s.charCodeAt(j) === 59;
      // Without `;` only the legacy ones browsers accept that way.
      if (rep !== undefined && (semi || name === 'lt' || name === 'gt' || name === 'amp' || name === 'quot')) {
        if (i > start) out.push(s.slice(start, i));
        out.push(rep);
        start = i = semi ? j + 1 : j;
        continue;
      }
    }
    i++;
  }
  if (start === 0) return s;
  if (start < n) out.push(s.slice(start));
  return out.join('');
}

/**
 * Decode JavaScript escapes (`\xNN`, `\uNNNN`, `\u{...}`) and CSS escapes
 * (`\` followed by 1–6 hex digits and an optional space).
 */
export function unescapeJs(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  const out: string[] = [];
  const n = s.length;
  let start = 0;
  let i = 0;
  while (i < n) {
    if (s.charCodeAt(i) !== 92 /* \ */) {
      i++;
      continue;
    }
    const c1 = i + 1 < n ? s.charCodeAt(i + 1) : 0;
    let cp = -1;
    let end = i;
    if ((c1 === 120 || c1 === 88) && i + 3 < n && hexVal(s.charCodeAt(i + 2)) >= 0 && hexVal(s.charCodeAt(i + 3)) >= 0) {
      cp = hexVal(s.charCodeAt(i + 2)) * 16 + hexVal(s.charCodeAt(i + 3));
      end = i + 4;
    } else if (c1 === 117 || c1 === 85) {
      if (i + 2 < n && s.charCodeAt(i + 2) === 123 /* { */) {
        let j = i + 3;
        let v = 0;
        while (j < n && j - i - 3 < 8 && hexVal(s.charCodeAt(j)) >= 0) {
          v = v * 16 + hexVal(s.charCodeAt(j));
          j++;
        }
        if (j > i + 3 && j < n && s.charCodeAt(j) === 125 /* } */ && v <= 0x10ffff) {
          cp = v;
          end = j + 1;
        }
      } else {
        let ok = i + 5 < n;
        let v = 0;
        for (let k = 2; ok && k < 6; k++) {
          const d = hexVal(s.charCodeAt(i + k));
          if (d < 0) ok = false;
          else v = v * 16 + d;
        }
        if (ok) {
          cp = v;
          end = i + 6;
        }
      }
    } else if (hexVal(c1) >= 0) {
      // CSS escape
      let j = i + 1;
      let v = 0;
      while (j < n && j - i - 1 < 6 && hexVal(s.charCodeAt(j)) >= 0) {
        v = v * 16 + hexVal(s.charCodeAt(j));
        j++;
      }
      if (j < n && s.charCodeAt(j) === 32) j++;
      if (v > 0 && v <= 0x10ffff) {
        cp = v;
        end = j;
      }
    }
    if (cp >= 0) {
      if (i > start) out.push(s.slice(start, i));
      out.push(String.fromCodePoint(cp));
      start = i = end;
      continue;
    }
    i += 2; // skip the escaped character itself
  }
  if (start === 0) return s;
  if (start < n) out.push(s.slice(start));
  return out.join('');
}

/** Remove NUL characters. */
export function stripNul(s: string): string {
  return s.indexOf('\0') < 0 ? s : s.split('\0').join('');
}

/**
 * Remove characters a browser drops or ignores inside a URL scheme or tag
 * name: ASCII control characters (tab, CR, LF, ...), NUL, and soft hyphens/zero-widths.
 */
export function stripControls(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 0xad || (c >= 0x200b && c <= 0x200f) || c === 0xfeff) {
      needs = true;
      break;
    }
  }
  if (!needs) return s;
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 0xad || (c >= 0x200b && c <= 0x200f) || c === 0xfeff) {
      out += s.slice(start, i);
      start = i + 1;
    }
  }
  return out + s.slice(start);
}

/**
 * SQL view: `/* ... *\/` comments replaced by a space (MySQL `/*! ... *\/`
 * executable comments keep their content), whitespace runs collapsed to one space.
 */
export function sqlView(s: string): string {
  const out: string[] = [];
  const n = s.length;
  let i = 0;
  let space = false;
  let start = 0;
  const push = (end: number) => {
    if (end > start) out.push(s.slice(start, end));
  };
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 47 /* / */ && i + 1 < n && s.charCodeAt(i + 1) === 42 /* * */) {
      push(i);
      let j = i + 2;
      if (j < n && s.charCodeAt(j) === 33 /* ! */) {
        j++;
        while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
        if (!space) out.push(' ');
        space = true;
        start = i = j;
        continue;
      }
      const close = s.indexOf('*/', j);
      i = close < 0 ? n : close + 2;
      if (!space) out.push(' ');
      space = true;
      start = i;
      continue;
    }
    if (c === 42 && i + 1 < n && s.charCodeAt(i + 1) === 47) {
      // stray end of an executable comment
      push(i);
      if (!space) out.push(' ');
      space = true;
      start = i = i + 2;
      continue;
    }
    if (c <= 32 || c === 0xa0) {
      push(i);
      if (!space) out.push(' ');
      space = true;
      i++;
      start = i;
      continue;
    }
    space = false;
    i++;
  }
  push(n);
  return out.join('');
}

export type Location = 'path' | 'query' | 'header' | 'cookie' | 'body';

export interface Views {
  /** URL-decoded (repeatedly), NUL removed; case preserved. */
  decoded: string;
  /** URL-decoded, NUL turned into a space (MySQL treats it as whitespace); for the SQL tokenizer. */
  sql: string;
  /** `decoded` plus HTML entities and JS/CSS escapes decoded, lower-cased. */
  markup: string;
}

/** The normalized views the detectors match on. */
export function views(value: string, location: Location): Views {
  const input = value.length > MAX_NORMALIZE_INPUT ? value.slice(0, MAX_NORMALIZE_INPUT) : value;
  const plus = location === 'query';
  const raw = urlDecode(input, plus);
  const decoded = stripNul(raw);
  const sql = raw === decoded ? decoded : raw.replace(/\0/g, ' ');
  let markup = htmlDecode(decoded);
  markup = unescapeJs(markup);
  // entities produced by escapes (e.g. `\x26\x23...`) get one more pass
  markup = stripNul(htmlDecode(markup)).toLowerCase();
  return { decoded, sql, markup };
}
