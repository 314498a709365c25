/**
 * Structural limits of a JSON document, checked by a small streaming tokenizer
 * over its bytes before anything is materialized: no values are built, nothing
 * recurses (an explicit depth counter and a stack as deep as maxDepth), and
 * every byte is looked at once, so the cost is linear in the input whatever
 * its shape. It also checks the JSON grammar (RFC 8259), so a document that
 * passes is one JSON.parse accepts, except for invalid UTF-8 inside strings,
 * which the caller checks (node:buffer isUtf8).
 *
 * Results name the limit and a byte offset; they never quote the input.
 */

export interface JsonLimits {
  /** Nesting of arrays and objects; the top-level container is depth 1. */
  maxDepth: number;
  /** Members of one object. */
  maxKeys: number;
  /** Elements of one array. */
  maxArrayLength: number;
  /** Characters (code points; an escape counts one) of one string, keys included. */
  maxStringLength: number;
}

export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxDepth: 32,
  maxKeys: 1000,
  maxArrayLength: 10_000,
  maxStringLength: 1024 * 1024,
});

export type JsonLimitName = keyof JsonLimits;

export type JsonCheck =
  | { ok: true }
  | {
      ok: false;
      /** 'limit': a limit was passed; 'syntax': not JSON (includes a truncated document). */
      kind: 'limit' | 'syntax';
      /** Which limit ('limit' only). */
      limit?: JsonLimitName;
      /** Byte offset of the offending token (for a string or container: where it starts). */
      offset: number;
      /** Nesting depth at that point. */
      depth: number;
      /** For the log: what and where, never the input itself. */
      reason: string;
    };

// Tokenizer modes.
const VALUE = 0; // a value must follow (top level, after ':' or after ',' in an array)
const ARRAY_FIRST = 1; // after '[': a value or ']'
const OBJECT_FIRST = 2; // after '{': a key or '}'
const KEY = 3; // after ',' in an object: a key
const COLON = 4;
const AFTER_VALUE = 5; // inside a container: ',' or its closing bracket
const STRING = 6;
const STRING_ESCAPE = 7;
const STRING_HEX = 8;
const NUM_MINUS = 9; // '-' seen: a digit must follow
const NUM_ZERO = 10; // leading 0: '.', 'e' or the end
const NUM_INT = 11;
const NUM_DOT = 12; // '.' seen: a digit must follow
const NUM_FRAC = 13;
const NUM_E = 14; // 'e' seen: a sign or digit must follow
const NUM_E_SIGN = 15; // sign seen: a digit must follow
const NUM_EXP = 16;
const LITERAL = 17;
const DONE = 18; // the top-level value is complete: only whitespace may follow

const OBJ = 1;
const ARR = 2;

const LIT_TRUE = Uint8Array.from([0x74, 0x72, 0x75, 0x65]);
const LIT_FALSE = Uint8Array.from([0x66, 0x61, 0x6c, 0x73, 0x65]);
const LIT_NULL = Uint8Array.from([0x6e, 0x75, 0x6c, 0x6c]);

/** 1 for the bytes that may follow a backslash (other than 'u'). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
/** 1 for hexadecimal digits. */
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

const WHAT: Record<JsonLimitName, string> = {
  maxDepth: 'nesting deeper than',
  maxKeys: 'object with more members than',
  maxArrayLength: 'array with more elements than',
  maxStringLength: 'string longer than',
};

/** The mode after a number's integer part, given the byte that follows it. */
function afterInteger(b: number, depth: number): number {
  if (b === 0x2e) return NUM_DOT;
  if (b === 0x65 || b === 0x45) return NUM_E;
  return depth === 0 ? DONE : AFTER_VALUE;
}

const EXPECTING = ['a value', 'a value or ]', 'a key or }', 'a key', "':'", "',' or a closing bracket"];

/**
 * Feed the document in chunks (`write`), then `end()`. The first problem found
 * is kept: later writes are ignored and every call returns it. Memory is
 * O(maxDepth) whatever the input.
 */
export class JsonLimitScanner {
  private readonly limits: JsonLimits;
  private mode = VALUE;
  private depth = 0;
  /** Container kind per depth (index 1 = top level). */
  private kinds: Uint8Array;
  /** Members or elements so far per depth. */
  private counts: Float64Array;
  private strLength = 0;
  private strStart = 0;
  private strIsKey = false;
  private hexLeft = 0;
  private literal: Uint8Array = LIT_NULL;
  private literalAt = 0;
  /** Bytes consumed by earlier writes. */
  private base = 0;
  private started = false;
  private failure: JsonCheck | null = null;

  constructor(limits: Partial<JsonLimits> = {}) {
    this.limits = { ...DEFAULT_JSON_LIMITS, ...limits };
    // Bounded by maxDepth; grows as needed so a huge configured limit costs nothing up front.
    const initial = Math.min(this.limits.maxDepth, 64) + 2;
    this.kinds = new Uint8Array(initial);
    this.counts = new Float64Array(initial);
  }

  /** Returns the problem found so far, or null when the bytes so far are fine. */
  write(chunk: Uint8Array): JsonCheck | null {
    if (this.failure) return this.failure;
    this.scan(chunk);
    this.base += chunk.length;
    return this.failure;
  }

  /** The verdict on the whole document. */
  end(): JsonCheck {
    if (this.failure) return this.failure;
    const m = this.mode;
    if (m === DONE) return { ok: true };
    if (this.depth === 0 && (m === NUM_ZERO || m === NUM_INT || m === NUM_FRAC || m === NUM_EXP)) return { ok: true };
    return this.syntax(this.base, this.started ? 'document ends early' : 'empty document');
  }

  private syntax(offset: number, what: string): JsonCheck {
    this.failure = { ok: false, kind: 'syntax', offset, depth: this.depth, reason: `malformed JSON: ${what} at byte ${offset} (depth ${this.depth})` };
    return this.failure;
  }

  private over(limit: JsonLimitName, offset: number): JsonCheck {
    this.failure = {
      ok: false,
      kind: 'limit',
      limit,
      offset,
      depth: this.depth,
      reason: `JSON ${WHAT[limit]} ${this.limits[limit]} at byte ${offset} (depth ${this.depth})`,
    };
    return this.failure;
  }

  private unexpected(offset: number, mode: number): void {
    this.syntax(offset, mode < EXPECTING.length ? `unexpected character, expecting ${EXPECTING[mode]}` : 'unexpected character');
  }

  private grow(): void {
    const size = Math.min(this.kinds.length * 2, this.limits.maxDepth + 2);
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    const counts = new Float64Array(size);
    counts.set(this.counts);
    this.kinds = kinds;
    this.counts = counts;
  }

  private scan(buf: Uint8Array): void {
    const { maxDepth, maxKeys, maxArrayLength, maxStringLength } = this.limits;
    const base = this.base;
    const n = buf.length;
    let mode = this.mode;
    let depth = this.depth;
    let strLength = this.strLength;
    let i = 0;
    if (n > 0 && !this.started) {
      // The document has begun once anything other than whitespace shows up; tracked lazily.
      for (let k = 0; k < n; k++) {
        const b = buf[k];
        if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
          this.started = true;
          break;
        }
      }
    }
    main: while (i < n) {
      let b = buf[i];
      switch (mode) {
        case STRING: {
          // The hot loop: plain string bytes.
          while (b !== 0x22 && b !== 0x5c && b >= 0x20) {
            if ((b & 0xc0) !== 0x80) strLength++; // count code points, not continuation bytes
            if (++i === n) break;
            b = buf[i];
          }
          if (strLength > maxStringLength) {
            this.depth = depth;
            this.over('maxStringLength', this.strStart);
            return;
          }
          if (i === n) break main;
          if (b === 0x22) {
            i++;
            if (this.strIsKey) mode = COLON;
            else mode = depth === 0 ? DONE : AFTER_VALUE;
          } else if (b === 0x5c) {
            i++;
            mode = STRING_ESCAPE;
          } else {
            this.depth = depth;
            this.syntax(base + i, 'control character in a string');
            return;
          }
          continue;
        }
        case STRING_ESCAPE:
          if (SIMPLE_ESCAPE[b] === 1) mode = STRING;
          else if (b === 0x75) {
            mode = STRING_HEX;
            this.hexLeft = 4;
          } else {
            this.depth = depth;
            this.syntax(base + i, 'invalid escape in a string');
            return;
          }
          strLength++;
          i++;
          continue;
        case STRING_HEX:
          if (HEX[b] !== 1) {
            this.depth = depth;
            this.syntax(base + i, 'invalid \\u escape in a string');
            return;
          }
          if (--this.hexLeft === 0) mode = STRING;
          i++;
          continue;
        case LITERAL:
          if (b !== this.literal[this.literalAt]) {
            this.depth = depth;
            this.unexpected(base + i, mode);
            return;
          }
          i++;
          if (++this.literalAt === this.literal.length) mode = depth === 0 ? DONE : AFTER_VALUE;
          continue;
        case NUM_MINUS:
          if (b === 0x30) mode = NUM_ZERO;
          else if (b >= 0x31 && b <= 0x39) mode = NUM_INT;
          else {
            this.depth = depth;
            this.syntax(base + i, 'invalid number');
            return;
          }
          i++;
          continue;
        case NUM_INT:
          while (b >= 0x30 && b <= 0x39) {
            if (++i === n) break main;
            b = buf[i];
          }
          mode = afterInteger(b, depth);
          if (mode === NUM_DOT || mode === NUM_E) i++;
          continue; // the number ended: this byte is looked at again
        case NUM_ZERO:
          mode = afterInteger(b, depth);
          if (mode === NUM_DOT || mode === NUM_E) i++;
          continue;
        case NUM_DOT:
          if (b < 0x30 || b > 0x39) {
            this.depth = depth;
            this.syntax(base + i, 'invalid number');
            return;
          }
          mode = NUM_FRAC;
          i++;
          continue;
        case NUM_FRAC:
          while (b >= 0x30 && b <= 0x39) {
            if (++i === n) break main;
            b = buf[i];
          }
          if (b === 0x65 || b === 0x45) {
            mode = NUM_E;
            i++;
          } else mode = depth === 0 ? DONE : AFTER_VALUE;
          continue;
        case NUM_E:
        case NUM_E_SIGN:
          if (mode === NUM_E && (b === 0x2b || b === 0x2d)) {
            mode = NUM_E_SIGN;
            i++;
            continue;
          }
          if (b < 0x30 || b > 0x39) {
            this.depth = depth;
            this.syntax(base + i, 'invalid number');
            return;
          }
          mode = NUM_EXP;
          i++;
          continue;
        case NUM_EXP:
          while (b >= 0x30 && b <= 0x39) {
            if (++i === n) break main;
            b = buf[i];
          }
          mode = depth === 0 ? DONE : AFTER_VALUE;
          continue;
      }

      // Structural modes: whitespace is skipped in all of them.
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
        i++;
        continue;
      }
      switch (mode) {
        case ARRAY_FIRST:
          if (b === 0x5d) {
            depth--;
            i++;
            mode = depth === 0 ? DONE : AFTER_VALUE;
            continue;
          }
          this.counts[depth] = 1;
          if (maxArrayLength < 1) {
            this.depth = depth;
            this.over('maxArrayLength', base + i);
            return;
          }
          mode = VALUE;
          continue; // the same byte, as a value
        case VALUE:
          switch (b) {
            case 0x22:
              mode = STRING;
              this.strIsKey = false;
              this.strStart = base + i;
              strLength = 0;
              i++;
              continue;
            case 0x7b:
            case 0x5b:
              if (depth >= maxDepth) {
                this.depth = depth + 1;
                this.over('maxDepth', base + i);
                return;
              }
              depth++;
              if (depth >= this.kinds.length) this.grow();
              this.kinds[depth] = b === 0x7b ? OBJ : ARR;
              this.counts[depth] = 0;
              mode = b === 0x7b ? OBJECT_FIRST : ARRAY_FIRST;
              i++;
              continue;
            case 0x2d:
              mode = NUM_MINUS;
              i++;
              continue;
            case 0x30:
              mode = NUM_ZERO;
              i++;
              continue;
            case 0x74:
            case 0x66:
            case 0x6e:
              this.literal = b === 0x74 ? LIT_TRUE : b === 0x66 ? LIT_FALSE : LIT_NULL;
              this.literalAt = 1;
              mode = LITERAL;
              i++;
              continue;
            default:
              if (b >= 0x31 && b <= 0x39) {
                mode = NUM_INT;
                i++;
                continue;
              }
              this.depth = depth;
              this.unexpected(base + i, VALUE);
              return;
          }
        case OBJECT_FIRST:
          if (b === 0x7d) {
            depth--;
            i++;
            mode = depth === 0 ? DONE : AFTER_VALUE;
            continue;
          }
          if (b !== 0x22) {
            this.depth = depth;
            this.unexpected(base + i, OBJECT_FIRST);
            return;
          }
          if (maxKeys < 1) {
            this.depth = depth;
            this.over('maxKeys', base + i);
            return;
          }
          this.counts[depth] = 1;
          mode = STRING;
          this.strIsKey = true;
          this.strStart = base + i;
          strLength = 0;
          i++;
          continue;
        case KEY:
          if (b !== 0x22) {
            this.depth = depth;
            this.unexpected(base + i, KEY);
            return;
          }
          mode = STRING;
          this.strIsKey = true;
          this.strStart = base + i;
          strLength = 0;
          i++;
          continue;
        case COLON:
          if (b !== 0x3a) {
            this.depth = depth;
            this.unexpected(base + i, COLON);
            return;
          }
          mode = VALUE;
          i++;
          continue;
        case AFTER_VALUE: {
          const kind = this.kinds[depth];
          if (b === 0x2c) {
            const count = ++this.counts[depth];
            if (kind === OBJ) {
              if (count > maxKeys) {
                this.depth = depth;
                this.over('maxKeys', base + i);
                return;
              }
              mode = KEY;
            } else {
              if (count > maxArrayLength) {
                this.depth = depth;
                this.over('maxArrayLength', base + i);
                return;
              }
              mode = VALUE;
            }
            i++;
            continue;
          }
          if ((b === 0x7d && kind === OBJ) || (b === 0x5d && kind === ARR)) {
            depth--;
            i++;
            mode = depth === 0 ? DONE : AFTER_VALUE;
            continue;
          }
          this.depth = depth;
          this.unexpected(base + i, AFTER_VALUE);
          return;
        }
        case DONE:
          this.depth = depth;
          this.syntax(base + i, 'data after the document');
          return;
      }
    }
    this.mode = mode;
    this.depth = depth;
    this.strLength = strLength;
  }
}

/** Checks a whole document held in memory. */
export function checkJsonLimits(bytes: Uint8Array, limits: Partial<JsonLimits> = {}): JsonCheck {
  const scanner = new JsonLimitScanner(limits);
  scanner.write(bytes);
  return scanner.end();
}
