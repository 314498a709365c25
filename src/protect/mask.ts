// Actions on a detected value. `mask` keeps the value's shape: separators (anything
// not a letter or digit: spaces, dashes, dots, '@', parentheses, '+') stay where they
// are and every letter or digit but the last `keepLast` becomes '*', so
// "4111-1111-1111-1111" → "****-****-****-1111" and the length is unchanged. A short
// value never shows more than half of its letters and digits ("a@b.io" → "*@*.io").
import { createHmac } from 'node:crypto';
import type { PiiSpan } from './detectors/common.js';

const isAlnumCode = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 127;

export function mask(value: string, keepLast = 4, maskChar = '*'): string {
  let alnum = 0;
  for (let i = 0; i < value.length; i++) if (isAlnumCode(value.charCodeAt(i))) alnum++;
  let keep = Math.min(Math.max(0, Math.floor(keepLast)), Math.floor(alnum / 2));
  const out: string[] = new Array(value.length);
  for (let i = value.length - 1; i >= 0; i--) {
    const c = value.charCodeAt(i);
    if (!isAlnumCode(c)) out[i] = value[i]!;
    else if (keep > 0) {
      out[i] = value[i]!;
      keep--;
    } else out[i] = maskChar;
  }
  return out.join('');
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
 * by `action(value, span)` in the decoded string, and re-encoded with JSON.stringify,
 * so escapes never break (masking the raw text could split `\u0040`). A number value
 * that is rewritten becomes a JSON string (`4111111111111111` → `"************1111"`),
 * unless the action returned it unchanged.
 */
export function applyToJson(text: string, spans: readonly JsonValueSpan[], action: Action | ActionSpec): string {
  const fn = typeof action === 'function' ? action : actionFor(action);
  const byValue = new Map<number, JsonValueSpan[]>();
  for (const s of spans) {
    const list = byValue.get(s.valueStart);
    if (list) list.push(s);
    else byValue.set(s.valueStart, [s]);
  }
  const starts = [...byValue.keys()].sort((a, b) => a - b);
  let out = '';
  let pos = 0;
  for (const vs of starts) {
    const list = byValue.get(vs)!.slice().sort((a, b) => a.valueSpanStart - b.valueSpanStart);
    const ve = list[0]!.valueEnd;
    if (vs < pos) throw new RangeError(`overlapping JSON values at ${vs}`);
    const raw = text.slice(vs, ve);
    const isString = raw.charCodeAt(0) === 34;
    const value = isString ? (JSON.parse(raw) as string) : raw;
    let rewritten = '';
    let p = 0;
    for (const s of list) {
      if (s.valueSpanStart < p) throw new RangeError(`overlapping spans in the value at ${vs}`);
      rewritten += value.slice(p, s.valueSpanStart) + fn(value.slice(s.valueSpanStart, s.valueSpanEnd), s);
      p = s.valueSpanEnd;
    }
    rewritten += value.slice(p);
    out += text.slice(pos, vs) + (!isString && rewritten === value ? raw : JSON.stringify(rewritten));
    pos = ve;
  }
  return out + text.slice(pos);
}
