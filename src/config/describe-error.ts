import type { ErrorObject } from 'ajv';

/**
 * One schema error as a `path: reason` line a person can act on: the bad
 * value named, the closest known key suggested for an unknown one, and the
 * common patterns said in words rather than shown as a regular expression.
 */
export function describeSchemaError(error: ErrorObject, config: unknown, schema: object): string {
  const at = jsonPathOf(error.instancePath) || '(root)';
  const value = valueAt(config, error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((schemaAt(schema, error.schemaPath) as { properties?: object } | undefined)?.properties ?? {});
      return `${at}: unknown field "${key}"${didYouMean(key, known)}`;
    }
    case 'required':
      return `${at}: missing field "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      const near = typeof value === 'string' ? didYouMean(value, allowed.filter((v): v is string => typeof v === 'string')) : '';
      return `${at}: ${shown(value)} is not one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}${near}`;
    }
    case 'pattern': {
      const pattern = (error.params as { pattern: string }).pattern;
      return `${at}: ${shown(value)} ${PATTERN_WORDS[pattern] ?? `must match the pattern ${pattern}`}`;
    }
    default:
      return `${at}: ${error.message ?? error.keyword}${value !== undefined && typeof value !== 'object' ? ` (got ${shown(value)})` : ''}`;
  }
}

/** The schema's recurring patterns, as a sentence. */
const PATTERN_WORDS: Record<string, string> = {
  '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$': 'is not a name: up to 64 letters, digits, "_", "." and "-", starting with a letter or digit',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'is not an environment variable name: letters, digits and "_", not starting with a digit',
  '^https?://': 'is not a URL: it must start with http:// or https://',
  '^https?://[^/?#@]+/?$': 'is not an origin: http:// or https://, a host and an optional port, nothing after',
  '^[A-Z][A-Z0-9_]{0,31}$': 'is not an entity name: up to 32 capitals, digits and "_", starting with a capital',
  '^spiffe://': 'is not a SPIFFE ID: it must start with spiffe://',
  '^[0-9a-fA-F]{64}$': 'is not a SHA-256 digest: 64 hex digits (printf %s "$KEY" | sha256sum)',
  '^[0-9]+(\\.[0-9]+)?/[0-9]*(ms|s|sec|second|m|min|minute|h|hour|d|day)$': 'is not a rate: a count per period, as 20/s, 5000/h or 100/10m',
  "^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$": 'is not a header name: up to 64 lower-case token characters (letters, digits, "-")',
};

/** `/routes/3/upstream` → `routes[3].upstream` */
export function jsonPathOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map(unescapePointer)
    .reduce((acc, part) => (/^[0-9]+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

const unescapePointer = (p: string) => p.replace(/~1/g, '/').replace(/~0/g, '~');

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[unescapePointer(part)];
  }
  return node;
}

/** The schema object holding the failed keyword (`#/properties/x/additionalProperties` → the object at `#/properties/x`). */
function schemaAt(schema: object, schemaPath: string): unknown {
  return valueAt(schema, schemaPath.replace(/^#/, '').split('/').slice(0, -1).join('/'));
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** ` (did you mean "x"?)` when a known name is close to the unknown one, else nothing. */
export function didYouMean(word: string, known: readonly string[]): string {
  const near = closest(word, known);
  return near ? ` (did you mean "${near}"?)` : '';
}

/** The candidate within a small edit distance (a third of the word, at least 1, at most 3), if one is clearly closest. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase(), limit);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment: "prot" is 1 from "port"),
 * giving up (limit + 1) once every cell of a row exceeds limit; the words are config keys, so short.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit || a.length > 64 || b.length > 64) return limit + 1;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row[j] = d;
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit) return limit + 1;
    [before, prev] = [prev, row];
  }
  return prev[b.length]!;
}
