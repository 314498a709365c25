// application/x-www-form-urlencoded bodies: each value is decoded before it is
// scanned (`4111+1111+...` and `ada%40example.com` are PII once decoded) and a
// rewritten value is encoded again, so an escape is never split by a mask.
import { detectPii, type DetectOptions, type JsonPiiSpan } from './detect.js';
import type { Action } from './mask.js';

/** Decoded form component, or null when its escapes are malformed (then scanned raw). */
function decode(raw: string): string | null {
  const plus = raw.indexOf('+') >= 0 ? raw.replace(/\+/g, ' ') : raw;
  if (plus.indexOf('%') < 0) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    return null;
  }
}

/** Visits each `name=value` pair: raw value offsets, decoded name and value. */
function eachPair(text: string, visit: (name: string, value: string, start: number, end: number, decoded: boolean) => void): void {
  let i = 0;
  const n = text.length;
  while (i <= n) {
    let amp = text.indexOf('&', i);
    if (amp < 0) amp = n;
    const eq = text.indexOf('=', i);
    if (eq >= 0 && eq < amp) {
      const name = decode(text.slice(i, eq)) ?? text.slice(i, eq);
      const raw = text.slice(eq + 1, amp);
      const value = decode(raw);
      visit(name, value ?? raw, eq + 1, amp, value !== null);
    }
    i = amp + 1;
  }
}

/** PII in a form body's values; spans carry the field name as their path and the value's raw offsets. */
export function detectForm(text: string, entities: readonly string[] | undefined, opts: DetectOptions = {}): JsonPiiSpan[] {
  const out: JsonPiiSpan[] = [];
  eachPair(text, (name, value, start, end) => {
    if (value.length === 0) return;
    const field = opts.fields?.match(name, () => name);
    const spans = field ? [{ entity: field, start: 0, end: value.length, score: 1 }] : detectPii(value, entities, opts);
    for (const s of spans) {
      out.push({ entity: s.entity, score: s.score, start, end, path: name, valueStart: start, valueEnd: end, valueSpanStart: s.start, valueSpanEnd: s.end });
    }
  });
  return out;
}

/** Rewrites the values holding spans (in decoded form), encoding them again. */
export function applyToForm(text: string, spans: readonly JsonPiiSpan[], action: Action): string {
  const byValue = new Map<number, JsonPiiSpan[]>();
  for (const s of spans) {
    const list = byValue.get(s.valueStart);
    if (list) list.push(s);
    else byValue.set(s.valueStart, [s]);
  }
  let out = '';
  let pos = 0;
  for (const vs of [...byValue.keys()].sort((a, b) => a - b)) {
    const list = byValue.get(vs)!.sort((a, b) => a.valueSpanStart - b.valueSpanStart);
    const ve = list[0]!.valueEnd;
    if (vs < pos) throw new RangeError(`overlapping form values at ${vs}`);
    const raw = text.slice(vs, ve);
    const decoded = decode(raw);
    const value = decoded ?? raw;
    let rewritten = '';
    let p = 0;
    for (const s of list) {
      if (s.valueSpanStart < p) throw new RangeError(`overlapping spans in the value at ${vs}`);
      rewritten += value.slice(p, s.valueSpanStart) + action(value.slice(s.valueSpanStart, s.valueSpanEnd), s);
      p = s.valueSpanEnd;
    }
    rewritten += value.slice(p);
    out += text.slice(pos, vs) + (decoded === null ? rewritten : encodeURIComponent(rewritten));
    pos = ve;
  }
  return out + text.slice(pos);
}
