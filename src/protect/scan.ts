// One body scan, the same inline and in the worker pool: spans found, no action
// taken (keys for hashing and encryption stay on the main thread). The whole
// collected body is scanned at once, so a value split across network chunks is
// seen whole.
import { detectJson, detectPii, JsonScanError, type JsonPiiSpan, type PiiSpan } from './detect.js';
import { compileCustom, type CompiledCustom, type CustomDetectorSpec } from './custom.js';
import { detectForm } from './form.js';

export type BodyKind = 'json' | 'form' | 'text';

export interface ScanTask {
  text: string;
  kind: BodyKind;
  /** Built-in entities to look for. */
  entities: string[];
  custom: CustomDetectorSpec[];
  /** Regions whose national phone numbers count (default: the detector's DEFAULT_REGIONS). */
  phoneRegions?: string[];
}

export interface ScanResult {
  /** How the body was read: a JSON body that does not parse is scanned as text. */
  kind: BodyKind;
  spans: Array<PiiSpan | JsonPiiSpan>;
}

/** The body kind a content type is scanned as, or null for binary types (skipped). */
export function bodyKindOf(contentType: string | undefined): BodyKind | null {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('json')) return 'json';
  if (ct.startsWith('application/x-www-form-urlencoded')) return 'form';
  if (ct.startsWith('text/') || ct.includes('xml') || ct.includes('html') || ct.includes('javascript')) return 'text';
  return null;
}

// Workers see the same few specs again and again: compile once per distinct list (bounded).
const compiled = new Map<string, CompiledCustom>();
function compiledFor(specs: CustomDetectorSpec[]): CompiledCustom {
  const key = JSON.stringify(specs);
  let c = compiled.get(key);
  if (!c) {
    if (compiled.size >= 64) compiled.clear();
    compiled.set(key, (c = compileCustom(specs)));
  }
  return c;
}

export function scanBody(task: ScanTask, custom: CompiledCustom = compiledFor(task.custom)): ScanResult {
  const extra = Object.keys(custom.text).length > 0 ? custom.text : undefined;
  const entities = extra ? [...task.entities, ...Object.keys(extra)] : task.entities;
  const opts = { extra, fields: custom.fields.empty ? undefined : custom.fields, phoneRegions: task.phoneRegions };
  if (task.kind === 'json') {
    try {
      return { kind: 'json', spans: detectJson(task.text, entities, opts) };
    } catch (err) {
      if (!(err instanceof JsonScanError)) throw err;
      // Not JSON after all (or over the walk limits): scan it as text rather than pass it unscanned.
    }
  }
  if (task.kind === 'form') return { kind: 'form', spans: detectForm(task.text, entities, opts) };
  return { kind: 'text', spans: detectPii(task.text, entities, opts) };
}
