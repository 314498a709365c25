// Actions on a detected value. `mask` keeps the value's shape: separators (anything
// not a letter or digit: spaces, dashes, dots, '@', parentheses, '+') stay where they
// are and every letter or digit but the last `keepLast` becomes '*', so
// "4111-1111-1111-1111" → "****-****-****-1111" and the length is unchanged. A short
// value never shows more than half of its letters and digits ("a@b.io" → "*@*.io").
import { createHmac } from 'node:crypto';
import type { PiiSpan } from './detectors/common.js';

const isAlnumCode = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 127;

export function mask(value: string, keepLast = 4, maskChar = '*'): string {
  const n = value.length;
  let alnum = 0;
  for (let i = 0; i < n; i++) if (isAlnumCode(value.charCodeAt(i))) alnum++;
  const keep = Math.min(Math.max(0, Math.floor(keepLast)), Math.floor(alnum / 2));
  // Left to right: the first `alnum - keep` letters and digits are masked. Runs of
  // masked chars go out as one repeat (values are short; this is the hot path of
  // a PII-dense answer).
  let toMask = alnum - keep;
  let out = '';
  let run = 0;
  let i = 0;
  for (; i < n && toMask > 0; i++) {
    const c = value.charCodeAt(i);
    if (isAlnumCode(c)) {
      run++;
      toMask--;
    } else {
      if (run > 0) out += maskChar.repeat(run);
      run = 0;
      out += value[i];
    }
  }
  if (run > 0) out += maskChar.repeat(run);
  return i < n ? out + value.slice(i) : out;
}

/** Removes the value: '' by default, or a placeholder such as `[REDACTED]`. */
export function redact(_value: string, placeholder = ''): string {
  return placeholder;
}

export const HASH_PREFIX = 'hmac-sha256:';

/**
 * Canonical form before hashing, so the same value written differently joins:
 * digits only for cards, SSNs and phones (keeping a leading '+'), upper-case
 * letters and digits for IBANs, lower case for emails.
 */
export function normalizeValue(value: string, entity?: string): string {
  switch (entity) {
    case 'CREDIT_CARD':
    case 'US_SSN':
      return value.replace(/[^0-9]/g, '');
    case 'PHONE_NUMBER':
      return (value.trimStart().startsWith('+') ? '+' : '') + value.replace(/[^0-9]/g, '');
    case 'IBAN_CODE':
      return value.replace(/[^0-9A-Za-z]/g, '').toUpperCase();
    case 'EMAIL_ADDRESS':
      return value.toLowerCase();
    default:
      return value;
  }
}

/** `hmac-sha256:` + hex HMAC-SHA256 of the (normalized, when `entity` is given) value. */
export function hash(value: string, key: string | Buffer, entity?: string): string {
  return HASH_PREFIX + createHmac('sha256', key).update(normalizeValue(value, entity), 'utf8').digest('hex');
}

export type Action = (value: string, span: PiiSpan) => string;

export type ActionSpec =
  | { action: 'mask'; keepLast?: number; maskChar?: string }
  | { action: 'redact'; placeholder?: string }
  | { action: 'hash'; key: string | Buffer }
  | { action: 'allow' };

export function actionFor(spec: ActionSpec): Action {
  switch (spec.action) {
    case 'mask':
      return (v) => mask(v, spec.keepLast ?? 4, spec.maskChar ?? '*');
    case 'redact':
      return () => redact('', spec.placeholder ?? '');
    case 'hash':
      return (v, s) => hash(v, spec.key, s.entity);
    case 'allow':
      return (v) => v;
  }
}

/**
 * Rewrites `text` with each span's value replaced by `action(value, span)`. Spans
 * must not overlap (detectPii's output never does); they may come in any order.
 */
export function applyToText(text: string, spans: readonly PiiSpan[], action: Action | ActionSpec): string {
  const fn = typeof action === 'function' ? action : actionFor(action);
  const sorted = spans.slice().sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const s of sorted) {
    if (s.start < pos || s.end > text.length || s.start > s.end) throw new RangeError(`bad or overlapping span ${s.start}..${s.end}`);
    out += text.slice(pos, s.start) + fn(text.slice(s.start, s.end), s);
    pos = s.end;
  }
  return out + text.slice(pos);
}

/** What applyToJson needs of a detectJson span. */
export interface JsonValueSpan extends PiiSpan {
  valueStart: number;
  valueEnd: number;
  valueSpanStart: number;
  valueSpanEnd: number;
}

/**
 * Rewrites a JSON document: each value holding spans is decoded, its spans replaced
 * by `action(value, span)` in the decoded string, and re-encoded as a JSON string,
 * so escapes never break (masking the raw text could split `\u0040`). A number value
 * that is rewritten becomes a JSON string (`4111111111111111` → `"************1111"`),
 * unless the action returned it unchanged.
 */
export function applyToJson(text: string, spans: readonly JsonValueSpan[], action: Action | ActionSpec): string {
  const fn = typeof action === 'function' ? action : actionFor(action);
  // detectJson emits spans in document order; anything else is sorted once.
  const list = inDocumentOrder(spans) ? spans : spans.slice().sort((a, b) => a.valueStart - b.valueStart || a.valueSpanStart - b.valueSpanStart);
  let out = '';
  let pos = 0;
  let k = 0;
  while (k < list.length) {
    const vs = list[k]!.valueStart;
    const ve = list[k]!.valueEnd;
    if (vs < pos) throw new RangeError(`overlapping JSON values at ${vs}`);
    let last = k + 1;
    while (last < list.length && list[last]!.valueStart === vs) last++;
    out += text.slice(pos, vs) + rewriteValue(text, vs, ve, list, k, last, fn);
    pos = ve;
    k = last;
  }
  return out + text.slice(pos);
}

function inDocumentOrder(spans: readonly JsonValueSpan[]): boolean {
  for (let i = 1; i < spans.length; i++) {
    const a = spans[i - 1]!;
    const b = spans[i]!;
    if (b.valueStart < a.valueStart || (b.valueStart === a.valueStart && b.valueSpanStart < a.valueSpanStart)) return false;
  }
  return true;
}

/** The JSON text that replaces the value token text[vs, ve), whose spans are list[from, to). */
function rewriteValue(text: string, vs: number, ve: number, list: readonly JsonValueSpan[], from: number, to: number, fn: Action): string {
  const isString = text.charCodeAt(vs) === 34;
  // Most strings hold no escape: their decoded value is the raw text between the quotes.
  const plain = isString && !hasBackslash(text, vs + 1, ve - 1);
  const value = !isString ? text.slice(vs, ve) : plain ? text.slice(vs + 1, ve - 1) : (JSON.parse(text.slice(vs, ve)) as string);
  let rewritten = '';
  let p = 0;
  let clean = true; // nothing the action returned needs escaping
  for (let k = from; k < to; k++) {
    const s = list[k]!;
    if (s.valueSpanStart < p) throw new RangeError(`overlapping spans in the value at ${vs}`);
    const replaced = fn(value.slice(s.valueSpanStart, s.valueSpanEnd), s);
    if (clean && needsEscape(replaced)) clean = false;
    rewritten += value.slice(p, s.valueSpanStart) + replaced;
    p = s.valueSpanEnd;
  }
  rewritten += value.slice(p);
  if (!isString) return rewritten === value ? value : JSON.stringify(rewritten);
  return plain && clean ? `"${rewritten}"` : JSON.stringify(rewritten);
}

/** Bounded to the value: an indexOf from `from` could run to the end of the document for every value. */
function hasBackslash(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 92) return true;
  return false;
}

/** True when `s` holds a char JSON.stringify would escape (quote, backslash, control, lone surrogate). */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}
