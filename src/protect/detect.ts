// PII detection core: runs the built-in detectors over text or over the string and
// number values of a JSON document (with their paths), and resolves overlaps.
// All detectors are linear-time char-code scanners (see ./detectors/).
import { type PiiSpan, type Detector } from './detectors/common.js';
import { detectCreditCards } from './detectors/credit-card.js';
import { detectSsns } from './detectors/us-ssn.js';
import { detectEmails } from './detectors/email.js';
import { detectPhones, phoneDetector } from './detectors/phone.js';
import { detectIbans } from './detectors/iban.js';
import { detectItins } from './detectors/us-itin.js';
import { detectNhsNumbers, detectNinos } from './detectors/uk.js';
import { detectIpAddresses } from './detectors/ip-address.js';
import { detectCryptoWallets } from './detectors/crypto-wallet.js';
import type { FieldMatcher } from './custom.js';

export type { PiiSpan, PiiEntity, Detector } from './detectors/common.js';
export { luhn, isValidCard, issuerOf } from './detectors/credit-card.js';
export { isValidSsn } from './detectors/us-ssn.js';
export { isValidItin } from './detectors/us-itin.js';
export { nhsChecksumOk, isValidNino } from './detectors/uk.js';
export { isValidIban, ibanChecksumOk, IBAN_LENGTHS } from './detectors/iban.js';
export { DEFAULT_REGIONS, REGIONS } from './detectors/phone-metadata.js';

/** Built-in detectors, most specific first: the order breaks ties between overlapping spans. */
export const DETECTORS: Readonly<Record<string, Detector>> = {
  IBAN_CODE: detectIbans,
  CREDIT_CARD: detectCreditCards,
  EMAIL_ADDRESS: detectEmails,
  US_SSN: detectSsns,
  US_ITIN: detectItins,
  UK_NHS: detectNhsNumbers,
  UK_NINO: detectNinos,
  IP_ADDRESS: detectIpAddresses,
  CRYPTO_WALLET: detectCryptoWallets,
  PHONE_NUMBER: detectPhones,
};

/** The built-in entities detected when none are configured (and in log lines). */
export const ENTITIES: readonly string[] = ['IBAN_CODE', 'CREDIT_CARD', 'EMAIL_ADDRESS', 'US_SSN', 'PHONE_NUMBER'];
/** Built-in entities detected only when listed in a stage's `entities`. */
export const OPTIONAL_ENTITIES: readonly string[] = ['US_ITIN', 'UK_NHS', 'UK_NINO', 'IP_ADDRESS', 'CRYPTO_WALLET'];
export const ALL_ENTITIES: readonly string[] = Object.keys(DETECTORS);

const RANK: Record<string, number> = Object.fromEntries(ALL_ENTITIES.map((e, i) => [e, i]));
const rankOf = (entity: string): number => RANK[entity] ?? ALL_ENTITIES.length;

export interface DetectOptions {
  /** drop spans scoring below this (default 0: every match) */
  minScore?: number;
  /** extra detectors (e.g. from config), ranked after the built-in ones */
  extra?: Readonly<Record<string, Detector>>;
  /** JSON only: values under these keys or paths are whole spans of the field's entity */
  fields?: FieldMatcher;
  /** regions (ISO 3166 codes) whose national phone numbers count; default DEFAULT_REGIONS. International numbers always count. */
  phoneRegions?: readonly string[];
}

/**
 * One detector to run, with what a text must hold for it to find anything: every
 * built-in entity needs a run of digits joined by separators except e-mail, which needs
 * an '@' (cards 12 digits, SSNs 9, phone numbers 7, see classify); an IBAN starts with
 * two letters and two digits. Detectors configured by the user have no such gate.
 */
interface Step {
  detect: Detector;
  builtIn: boolean;
  /** digits in one run joined by separators (see detectPii) */
  minDigits: number;
  needsIbanStart: boolean;
  needsAt: boolean;
}

const GATES: Record<string, Pick<Step, 'minDigits' | 'needsIbanStart' | 'needsAt'>> = {
  IBAN_CODE: { minDigits: 2, needsIbanStart: true, needsAt: false },
  CREDIT_CARD: { minDigits: 12, needsIbanStart: false, needsAt: false },
  EMAIL_ADDRESS: { minDigits: 0, needsIbanStart: false, needsAt: true },
  US_SSN: { minDigits: 9, needsIbanStart: false, needsAt: false },
  PHONE_NUMBER: { minDigits: 7, needsIbanStart: false, needsAt: false },
  US_ITIN: { minDigits: 9, needsIbanStart: false, needsAt: false },
  UK_NHS: { minDigits: 10, needsIbanStart: false, needsAt: false },
  UK_NINO: { minDigits: 6, needsIbanStart: false, needsAt: false },
  // IPv6 runs hold few digits or none ('fe80::abcd'): no gate
  IP_ADDRESS: { minDigits: 0, needsIbanStart: false, needsAt: false },
  CRYPTO_WALLET: { minDigits: 0, needsIbanStart: false, needsAt: false },
};

/**
 * The steps for an entity list, in rank order (see detectPii), kept per list: callers
 * pass the same few lists (a stage's, with its configured detectors) for every value.
 */
const plans = new WeakMap<readonly string[], { extra: DetectOptions['extra']; regions: readonly string[] | undefined; steps: Step[] }>();
function planFor(entities: readonly string[], extra: DetectOptions['extra'], regions: readonly string[] | undefined): Step[] {
  const cached = plans.get(entities);
  if (cached !== undefined && cached.extra === extra && cached.regions === regions) return cached.steps;
  const steps = [...entities]
    .sort((a, b) => rankOf(a) - rankOf(b))
    .map((e): Step => {
      // phoneDetector keeps one numbering plan per distinct region list
      if (e === 'PHONE_NUMBER' && regions) return { detect: phoneDetector(regions), builtIn: true, ...GATES[e]! };
      const builtIn = DETECTORS[e];
      if (builtIn) return { detect: builtIn, builtIn: true, ...GATES[e]! };
      const custom = extra?.[e];
      if (!custom) throw new Error(`unknown PII entity ${e}`);
      return { detect: custom, builtIn: false, minDigits: 0, needsIbanStart: false, needsAt: false };
    });
  plans.set(entities, { extra, regions, steps });
  return steps;
}

/**
 * Non-overlapping PII spans in `text`, sorted by start. On overlap the longer span
 * wins; on equal length, the more specific entity (checksummed before shape-only).
 * `key`: the JSON key the text is the value of, context for weak candidates
 * (`"phone": "0612345678"`).
 */
export function detectPii(text: string, entities?: readonly string[], opts: DetectOptions = {}, key: string | null = null): PiiSpan[] {
  const minScore = opts.minScore ?? 0;
  const steps = planFor(entities ?? (opts.extra ? [...ENTITIES, ...Object.keys(opts.extra)] : ENTITIES), opts.extra, opts.phoneRegions);
  // One counting pass spares most values (names, streets, zip codes) most detectors' scans:
  // the most digits in one run joined by the separators numbers are written with, an
  // '@', and two letters followed by two digits (an IBAN's start).
  let joined = 0;
  let run = 0;
  let seps = 0;
  let letters = 0;
  let ccDigit = false;
  let iban = false;
  let at = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run > joined) joined = run;
      seps = 0;
      if (ccDigit) iban = true;
      ccDigit = letters >= 2;
      letters = 0;
      continue;
    }
    ccDigit = false;
    const l = c | 32; // lower-cases an ASCII letter
    if (l >= 97 && l <= 122) {
      letters++;
      run = 0;
      continue;
    }
    letters = 0;
    if (c === 64) at = true;
    // space - . / ( ) + x # continue a number (groups, extensions) for up to 3 in a row
    if ((c === 32 || c === 45 || c === 46 || c === 47 || c === 40 || c === 41 || c === 43) && ++seps <= 3) continue;
    run = 0;
    seps = 0;
  }
  let all: PiiSpan[] | null = null;
  for (let k = 0; k < steps.length; k++) {
    const step = steps[k]!;
    if (joined < step.minDigits || (step.needsIbanStart && !iban) || (step.needsAt && !at)) continue;
    const found = step.detect(text, key);
    let whole = false;
    for (let j = 0; j < found.length; j++) {
      const s = found[j]!;
      if (s.score < minScore) continue;
      (all ??= []).push(s);
      if (s.start === 0 && s.end === text.length) whole = true;
    }
    // A built-in span over the whole text beats every span of a later-ranked detector
    // (none is longer; on equal length the rank decides): the usual JSON value that is
    // one card, SSN or IBAN needs no further scan.
    if (whole && step.builtIn) return all!.length < 2 ? all! : resolveOverlaps(all!);
  }
  if (all === null) return [];
  return all.length < 2 ? all : resolveOverlaps(all);
}

export function resolveOverlaps(spans: PiiSpan[]): PiiSpan[] {
  if (spans.length < 2) return spans.slice();
  // Usual case: detectors found different values. Sorted by start and disjoint, nothing to choose.
  const byStart = spans.slice().sort((a, b) => a.start - b.start);
  let disjoint = true;
  for (let i = 1; i < byStart.length && disjoint; i++) disjoint = byStart[i - 1]!.end <= byStart[i]!.start;
  if (disjoint) return byStart;
  const rank = (s: PiiSpan): number => rankOf(s.entity);
  const byPref = spans
    .slice()
    .sort((a, b) => b.end - b.start - (a.end - a.start) || rank(a) - rank(b) || b.score - a.score || a.start - b.start);
  // chosen spans kept sorted by start; overlap test by binary search (n log n)
  const chosen: PiiSpan[] = [];
  for (const s of byPref) {
    let lo = 0;
    let hi = chosen.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (chosen[mid]!.start < s.start) lo = mid + 1;
      else hi = mid;
    }
    const prev = chosen[lo - 1];
    const next = chosen[lo];
    if ((prev && prev.end > s.start) || (next && next.start < s.end)) continue;
    chosen.splice(lo, 0, s);
  }
  return chosen;
}

// ---------------------------------------------------------------- JSON

export interface JsonPiiSpan extends PiiSpan {
  /** JSONPath of the value: `$.customer.ssn`, `$.items[2].card`, `$['odd key']` */
  path: string;
  /** offsets of the whole JSON value token (string including quotes) in the document */
  valueStart: number;
  valueEnd: number;
  /** the span's offsets in the decoded value (start/end are offsets in the document) */
  valueSpanStart: number;
  valueSpanEnd: number;
}

export interface JsonLimits {
  maxDepth?: number;
  maxValues?: number;
  maxBytes?: number;
}

export class JsonScanError extends Error {
  constructor(
    message: string,
    readonly reason: 'syntax' | 'limit',
  ) {
    super(message);
    this.name = 'JsonScanError';
  }
}

export interface JsonValue {
  readonly path: string;
  /** decoded string value, or the number's literal text */
  value: string;
  kind: 'string' | 'number';
  /** token offsets in the document (strings: quote to quote inclusive) */
  start: number;
  end: number;
  /** for strings: document offset of decoded char k, when the string holds escapes; null when value === raw content */
  map: number[] | null;
  /** the key (or array index) the value sits under; null at the top level */
  key: string | number | null;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** The chars a JSON string holds as themselves: up to a quote, a backslash or a control char. Linear, no backtracking. */
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

/** A visited value; its path string is built only when read. */
class Value implements JsonValue {
  #path: string | undefined;
  constructor(
    readonly value: string,
    readonly kind: 'string' | 'number',
    readonly start: number,
    readonly end: number,
    readonly map: number[] | null,
    readonly key: string | number | null,
    private readonly parentPath: string | null,
  ) {}
  get path(): string {
    return (this.#path ??= this.parentPath === null ? '$' : childPath(this.parentPath, this.key as string | number));
  }
}

function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return IDENT.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key).replace(/^"|"$/g, "'")}]`;
}

/**
 * Walks the string and number values of a JSON document in order, with their paths
 * and offsets. One pass, iterative (no recursion), bounded by the limits; throws
 * JsonScanError on a syntax error or when a limit is exceeded (callers fail closed).
 */
export function walkJson(text: string, visit: (v: JsonValue) => void, limits: JsonLimits = {}): void {
  const maxBytes = limits.maxBytes ?? 16 * 1024 * 1024;
  if (text.length > maxBytes) throw new JsonScanError(`JSON body over ${maxBytes} chars`, 'limit');
  new JsonWalker(text, visit, limits.maxDepth ?? 64, limits.maxValues ?? 1_000_000).run();
}

/** An open object (key: the current key) or array (key: the current index). */
interface Container {
  arr: boolean;
  key: string | number | null;
  path: string;
}

const ESCAPED: Record<number, string> = { 34: '"', 92: '\\', 47: '/', 98: '\b', 102: '\f', 110: '\n', 114: '\r', 116: '\t' };

/**
 * The walk's state in fields rather than in closures over shared variables: the
 * position is read and written on every token, and per-char loops work on locals.
 * A string just read is left in `str` / `strMap` / `strStart` (no object per string).
 */
class JsonWalker {
  private i = 0;
  private values = 0;
  private readonly n: number;
  private readonly stack: Container[] = [];
  private str = '';
  private strMap: number[] | null = null;
  private strStart = 0;

  constructor(
    private readonly text: string,
    private readonly visit: (v: JsonValue) => void,
    private readonly maxDepth: number,
    private readonly maxValues: number,
  ) {
    this.n = text.length;
  }

  run(): void {
    const text = this.text;
    const stack = this.stack;
    // after a value: close containers / expect ',' (a small state machine)
    let expectValue = true;
    this.ws();
    for (;;) {
      if (expectValue) {
        this.ws();
        const c = code(text, this.i);
        if (c === 123 || c === 91) {
          if (stack.length >= this.maxDepth) throw new JsonScanError(`JSON deeper than ${this.maxDepth}`, 'limit');
          const top = stack[stack.length - 1];
          // container paths are built eagerly (one per container, not per value)
          const path = top ? childPath(top.path, top.key as string | number) : '$';
          this.i++;
          this.ws();
          const arr = c === 91;
          const entry: Container = { arr, key: null, path };
          stack.push(entry);
          if (code(text, this.i) === (arr ? 93 : 125)) {
            this.i++;
            stack.pop();
            expectValue = false; // empty container closed: on to the separator
          } else {
            if (arr) entry.key = 0;
            else entry.key = this.readKey();
            continue;
          }
        } else if (c === 34) {
          this.readString();
          this.emit(this.str, 'string', this.strStart, this.i, this.strMap);
          expectValue = false;
        } else if (c === 45 || (c >= 48 && c <= 57)) {
          const s = this.i;
          let j = s + 1;
          while (j < this.n) {
            const d = text.charCodeAt(j);
            if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) j++;
            else break;
          }
          this.i = j;
          this.emit(text.slice(s, j), 'number', s, j, null);
          expectValue = false;
        } else if (text.startsWith('true', this.i)) {
          this.i += 4;
          expectValue = false;
        } else if (text.startsWith('false', this.i)) {
          this.i += 5;
          expectValue = false;
        } else if (text.startsWith('null', this.i)) {
          this.i += 4;
          expectValue = false;
        } else this.fail('expected a value');
      }
      // separators
      this.ws();
      const top = stack[stack.length - 1];
      if (!top) {
        if (this.i !== this.n) this.fail('trailing data');
        return;
      }
      const c = code(text, this.i);
      if (c === 44) {
        this.i++;
        this.ws();
        top.key = top.arr ? (top.key as number) + 1 : this.readKey();
        expectValue = true;
      } else if (c === (top.arr ? 93 : 125)) {
        this.i++;
        stack.pop();
        expectValue = false;
      } else this.fail("expected ',' or a closing bracket");
    }
  }

  private fail(msg: string): never {
    throw new JsonScanError(`${msg} at ${this.i}`, 'syntax');
  }

  private ws(): void {
    const text = this.text;
    let j = this.i;
    while (j < this.n) {
      const c = text.charCodeAt(j);
      if (c === 32 || c === 9 || c === 10 || c === 13) j++;
      else break;
    }
    this.i = j;
  }

  /** An object key and its ':'. */
  private readKey(): string {
    if (code(this.text, this.i) !== 34) this.fail('expected key');
    this.readString();
    const key = this.str;
    this.ws();
    if (code(this.text, this.i) !== 58) this.fail("expected ':'");
    this.i++;
    return key;
  }

  private emit(value: string, kind: 'string' | 'number', start: number, end: number, map: number[] | null): void {
    if (++this.values > this.maxValues) throw new JsonScanError(`JSON over ${this.maxValues} values`, 'limit');
    const top = this.stack[this.stack.length - 1];
    this.visit(new Value(value, kind, start, end, map, top ? top.key : null, top ? top.path : null));
  }

  /** The string at `i` (its opening quote): decoded into `str`, with `strMap` when it held escapes. */
  private readString(): void {
    const text = this.text;
    const n = this.n;
    const start = this.i;
    this.strStart = start;
    this.strMap = null;
    // Fast path, most strings: no escape before the closing quote. The run of plain chars
    // is found by the regex engine's compiled loop (a sticky test allocates nothing).
    PLAIN_RUN.lastIndex = start + 1;
    PLAIN_RUN.test(text);
    let i = PLAIN_RUN.lastIndex;
    if (i < n && text.charCodeAt(i) === 34) {
      this.str = text.slice(start + 1, i);
      this.i = i + 1;
      return;
    }
    // Slow path from the first escape (or control char, or the end): decode, and map each
    // decoded char to its offset in the document.
    const cs = start + 1;
    let map: number[] | null = null;
    let value = '';
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        if (map === null) value = text.slice(cs, i);
        this.str = value;
        this.strMap = map;
        this.i = i + 1;
        return;
      }
      if (c < 32) {
        this.i = i;
        this.fail('control character in string');
      }
      if (c === 92) {
        if (map === null) {
          value = text.slice(cs, i);
          map = [];
          for (let k = cs; k < i; k++) map.push(k);
        }
        const e = text.charCodeAt(i + 1);
        const at = i;
        let ch: string | undefined;
        if (e === 117) {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.i = i;
            this.fail('bad \\u escape');
          }
          ch = String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          ch = ESCAPED[e];
          if (ch === undefined) {
            this.i = i;
            this.fail('bad escape');
          }
          i += 2;
        }
        value += ch;
        map.push(at);
        continue;
      }
      if (map !== null) {
        value += text[i];
        map.push(i);
      }
      i++;
    }
    this.i = i;
    this.fail('unterminated string');
  }
}

function code(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : -1;
}

/**
 * PII in the string and number values of a JSON document, each with its path. Span
 * offsets (start/end) are in the document; for escaped strings they cover the
 * escape sequences. Throws JsonScanError (syntax or limit): callers fail closed.
 */
export function detectJson(text: string, entities?: readonly string[], opts: DetectOptions & JsonLimits = {}): JsonPiiSpan[] {
  const out: JsonPiiSpan[] = [];
  walkJson(
    text,
    (v) => {
      if (v.value.length === 0) return;
      const field = opts.fields?.match(v.key, () => v.path);
      if (field) {
        // the whole value belongs to the configured field
        out.push({ entity: field, score: 1, start: v.start, end: v.end, path: v.path, valueStart: v.start, valueEnd: v.end, valueSpanStart: 0, valueSpanEnd: v.value.length });
        return;
      }
      if (v.value.length < 5 && !opts.extra) return; // no built-in entity is shorter
      const base = v.kind === 'string' ? v.start + 1 : v.start;
      for (const s of detectPii(v.value, entities, opts, typeof v.key === 'string' ? v.key : null)) {
        const docStart = v.map ? v.map[s.start]! : base + s.start;
        const docEnd = v.map ? (s.end < v.map.length ? v.map[s.end]! : v.end - 1) : base + s.end;
        out.push({
          entity: s.entity,
          score: s.score,
          start: docStart,
          end: docEnd,
          path: v.path,
          valueStart: v.start,
          valueEnd: v.end,
          valueSpanStart: s.start,
          valueSpanEnd: s.end,
        });
      }
    },
    opts,
  );
  return out;
}
