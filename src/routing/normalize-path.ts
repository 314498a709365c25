/**
 * Request-path normalization.
 *
 * The string returned here is used twice: routes are matched against it and
 * it is forwarded upstream verbatim. Normalization therefore has to produce a
 * canonical form in which no encoding trick can make the upstream resolve a
 * different resource than the one the router matched:
 *
 *  - percent-escapes of unreserved characters are decoded (so `%2e` cannot
 *    hide a dot segment), every other escape is kept with uppercase hex;
 *  - escapes that would turn into a separator (`%2F`, `%5C`) or a control byte
 *    are rejected (the former unless explicitly allowed);
 *  - only RFC 3986 pchar characters plus `/` are accepted raw; `;` is
 *    rejected by default (path-parameter route bypasses);
 *  - `//` runs are collapsed and dot segments are resolved; `..` above the
 *    root is rejected rather than clamped.
 *
 * The output never contains an escape of an unreserved character, so a
 * second pass decodes nothing and the function is idempotent.
 *
 * Work is linear in the input length: one validating scan, plus one decoding
 * scan for inputs that need it. No regular expressions.
 */

export type NormalizeResult = { ok: true; path: string } | { ok: false; reason: string };

export interface NormalizeOptions {
  /** Accept raw `;` in the path (default false). */
  allowSemicolon?: boolean;
  /** Accept `%2F` / `%5C` (kept encoded, uppercase) in the path (default false). */
  allowEncodedSlash?: boolean;
  /** Maximum accepted input length in UTF-16 code units (default 8192). */
  maxLength?: number;
}

export const DEFAULT_MAX_PATH_LENGTH = 8192;

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;

// Character classes for raw (undecoded) input characters below 0x80.
// 0 = not allowed raw
const C_PCHAR = 1; // unreserved, sub-delims except ';', ':' and '@'
const C_SLASH = 2;
const C_PERCENT = 3;
const C_SEMICOLON = 4;

const RAW_CLASS = new Uint8Array(128);
/** 1 for RFC 3986 unreserved characters: A-Z a-z 0-9 - . _ ~ */
const UNRESERVED = new Uint8Array(128);

(function initTables(): void {
  const mark = (chars: string, table: Uint8Array, value: number): void => {
    for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = value;
  };
  const unreserved =
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
  mark(unreserved, UNRESERVED, 1);
  mark(unreserved, RAW_CLASS, C_PCHAR);
  mark("!$&'()*+,=:@", RAW_CLASS, C_PCHAR);
  mark('/', RAW_CLASS, C_SLASH);
  mark('%', RAW_CLASS, C_PERCENT);
  mark(';', RAW_CLASS, C_SEMICOLON);
})();

const HEX_UPPER = '0123456789ABCDEF';

function fail(reason: string): NormalizeResult {
  return Object.freeze({ ok: false as const, reason });
}

// Pre-built failures: rejecting hostile input should not allocate either.
const F_START = fail('path must start with /');
const F_CONTROL = fail('control character in path');
const F_NON_ASCII = fail('non-ASCII character in path');
const F_BACKSLASH = fail('backslash in path');
const F_SPACE = fail('space in path');
const F_SEMICOLON = fail('semicolon in path');
const F_BAD_ESCAPE = fail('invalid percent-encoding in path');
const F_ENC_SLASH = fail('encoded slash in path');
const F_ENC_BACKSLASH = fail('encoded backslash in path');
const F_ENC_CONTROL = fail('encoded control character in path');
const F_ESCAPES_ROOT = fail('path escapes root');
const F_TOO_LONG_DEFAULT = fail(`path longer than ${DEFAULT_MAX_PATH_LENGTH} characters`);

function disallowedChar(c: number): NormalizeResult {
  if (c < 0x20 || c === 0x7f) return F_CONTROL;
  if (c > 0x7f) return F_NON_ASCII;
  if (c === 0x5c) return F_BACKSLASH;
  if (c === 0x20) return F_SPACE;
  return fail(`disallowed character '${String.fromCharCode(c)}' in path`);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x41 && c <= 0x46) return c - 0x37; // A-F
  if (c >= 0x61 && c <= 0x66) return c - 0x57; // a-f
  return -1;
}

export function normalizePath(raw: string, options?: NormalizeOptions): NormalizeResult {
  const maxLength = options?.maxLength ?? DEFAULT_MAX_PATH_LENGTH;
  const allowSemicolon = options?.allowSemicolon === true;
  const len = raw.length;

  if (len > maxLength) {
    return maxLength === DEFAULT_MAX_PATH_LENGTH
      ? F_TOO_LONG_DEFAULT
      : fail(`path longer than ${maxLength} characters`);
  }
  if (len === 0 || raw.charCodeAt(0) !== SLASH) return F_START;

  // Pass 1: validate every raw character and find out whether the input is
  // already canonical (no '%', no '//', no '/.').
  let slow = false;
  let prev = 0;
  for (let i = 0; i < len; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 0x80) return F_NON_ASCII;
    switch (RAW_CLASS[c]) {
      case C_PCHAR:
        if (c === DOT && prev === SLASH) slow = true;
        break;
      case C_SLASH:
        if (prev === SLASH) slow = true;
        break;
      case C_PERCENT:
        slow = true;
        break;
      case C_SEMICOLON:
        if (!allowSemicolon) return F_SEMICOLON;
        break;
      default:
        return disallowedChar(c);
    }
    prev = c;
  }
  if (!slow) return { ok: true, path: raw };
  return normalizeSlow(raw, options?.allowEncodedSlash === true);
}

/**
 * Pass 2 (input already validated character-by-character): decode escapes
 * segment by segment, collapse empty segments and resolve dot segments.
 */
function normalizeSlow(raw: string, allowEncodedSlash: boolean): NormalizeResult {
  const len = raw.length;
  const segments: string[] = [];
  let i = 1; // raw[0] === '/'

  for (;;) {
    // Decode one segment: raw[i .. next '/' or end).
    let seg = '';
    let runStart = i; // start of the pending run of literal characters
    while (i < len) {
      const c = raw.charCodeAt(i);
      if (c === SLASH) break;
      if (c !== PERCENT) {
        i++;
        continue;
      }
      if (i + 2 >= len) return F_BAD_ESCAPE;
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return F_BAD_ESCAPE;
      const byte = (hi << 4) | lo;
      if (i > runStart) seg += raw.slice(runStart, i);
      if (byte < 0x80 && UNRESERVED[byte] === 1) {
        seg += String.fromCharCode(byte);
      } else if (byte === 0x2f || byte === 0x5c) {
        if (!allowEncodedSlash) return byte === 0x2f ? F_ENC_SLASH : F_ENC_BACKSLASH;
        seg += byte === 0x2f ? '%2F' : '%5C';
      } else if (byte < 0x20 || byte === 0x7f) {
        return F_ENC_CONTROL;
      } else {
        seg += '%' + HEX_UPPER[hi] + HEX_UPPER[lo];
      }
      i += 3;
      runStart = i;
    }
    if (i > runStart) seg = seg === '' ? raw.slice(runStart, i) : seg + raw.slice(runStart, i);

    let isDirectory = true; // segment leaves a trailing slash if it is the last one
    if (seg === '' || seg === '.') {
      // empty segment ('//' or trailing '/') or '.': dropped
    } else if (seg === '..') {
      if (segments.length === 0) return F_ESCAPES_ROOT;
      segments.pop();
    } else {
      segments.push(seg);
      isDirectory = false;
    }

    if (i >= len) {
      if (segments.length === 0) return { ok: true, path: '/' };
      const joined = '/' + segments.join('/');
      return { ok: true, path: isDirectory ? joined + '/' : joined };
    }
    i++; // skip the '/'
  }
}
