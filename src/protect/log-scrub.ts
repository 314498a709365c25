// Personal data out of log lines: the string fields of a log object (two levels
// deep, arrays included) and the message are run through the built-in detectors
// and each value found becomes `[ENTITY]`. Cheap by construction: only strings,
// each scanned up to MAX_SCANNED chars, and detectPii's prefilter skips strings
// without enough digits or an '@', which is most of them. Nothing is written
// unscanned: longer strings are cut, deeper objects become scanned JSON text,
// and arrays or objects past MAX_ITEMS entries are cut.
import { detectPii } from './detect.js';
import { applyToText } from './mask.js';

const MAX_SCANNED = 4096;
const MAX_DEPTH = 2;
const MAX_ITEMS = 64;

/** Fields the gateway itself fills with ids, names and numbers: never personal data. */
const SAFE_KEYS = new Set(['level', 'time', 'pid', 'reqId', 'traceId', 'spanId', 'route', 'listener', 'upstream', 'code', 'method', 'status', 'gatewayPid', 'generation']);

const replaceSpan = (_value: string, span: { entity: string }): string => `[${span.entity}]`;

export function scrubString(s: string): string {
  const cut = s.length > MAX_SCANNED ? `${s.slice(0, MAX_SCANNED)}…[cut]` : s;
  const spans = detectPii(cut);
  return spans.length === 0 ? cut : applyToText(cut, spans, replaceSpan);
}

/** The value with PII in its strings replaced; the same object when nothing changed (no copy). */
export function scrubValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return scrubString(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth > MAX_DEPTH) return deepAsText(v);
  if (v instanceof Error) {
    // pino's err serializer would print message and stack as they are
    const message = scrubString(v.message);
    const stack = v.stack === undefined ? undefined : scrubString(v.stack);
    if (message === v.message && stack === v.stack) return v;
    return { type: v.name, message, stack };
  }
  if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = v.length > MAX_ITEMS ? [...v.slice(0, MAX_ITEMS), `…${v.length - MAX_ITEMS} more cut`] : null;
    const n = Math.min(v.length, MAX_ITEMS);
    for (let i = 0; i < n; i++) {
      const s = scrubValue(v[i], depth + 1);
      if (s !== v[i]) (out ??= v.slice())[i] = s;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | null = null;
  let seen = 0;
  for (const k in v as Record<string, unknown>) {
    if (++seen > MAX_ITEMS) {
      // the rest is dropped, not written unscanned
      out ??= { ...(v as Record<string, unknown>) };
      delete out[k];
      out['…'] = 'more keys cut';
      continue;
    }
    if (depth === 0 && SAFE_KEYS.has(k)) continue;
    const before = (v as Record<string, unknown>)[k];
    const after = scrubValue(before, depth + 1);
    if (after !== before) (out ??= { ...(v as Record<string, unknown>) })[k] = after;
  }
  return out ?? v;
}

/** An object nested deeper than MAX_DEPTH: its JSON text, scanned (and cut) like any string. */
function deepAsText(v: object): string {
  try {
    return scrubString(JSON.stringify(v) ?? String(v));
  } catch {
    return '[unserializable]';
  }
}

/** pino `hooks.logMethod` arguments: the merging object and the message. */
export function scrubLogArgs(args: unknown[]): unknown[] {
  let out: unknown[] | null = null;
  for (let i = 0; i < args.length && i < 4; i++) {
    const s = scrubValue(args[i]);
    if (s !== args[i]) (out ??= args.slice())[i] = s;
  }
  return out ?? args;
}
