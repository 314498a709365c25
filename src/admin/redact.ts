/**
 * The running config as GET /config shows it, redacted by what the schema
 * says is a secret rather than by field names: a value at a place whose
 * schema is a secret reference ({env} / {file}: the only way the schema takes
 * secrets) or is marked `writeOnly` (inline values that may be credentials,
 * such as header values a stage sets), and any {env}/{file} reference met
 * off-schema. Besides: the private members of inline JWKs, passwords in URLs,
 * and the path and query of webhook URLs (a Slack-style webhook URL is itself
 * the secret). Limits, key expressions and other settings stay visible.
 */

export const REDACTED = '[redacted]';
/** Private (and symmetric) JWK members (RFC 7518 §6). */
const JWK_PRIVATE = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);
const MAX_DEPTH = 64;

type Schema = Record<string, unknown>;

function isSecretRef(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'env' || keys[0] === 'file') && typeof v[keys[0]] === 'string';
}

/** The schema of a secret reference: a oneOf of {env} and {file} objects. */
function isSecretRefSchema(s: Schema): boolean {
  const branches = s.oneOf;
  if (!Array.isArray(branches) || branches.length === 0) return false;
  return branches.every((b: Schema) => {
    const req = b?.required;
    return Array.isArray(req) && req.length === 1 && (req[0] === 'env' || req[0] === 'file');
  });
}

function typeOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'number' ? 'number' : typeof v;
}

function typeFits(s: Schema, v: unknown): boolean {
  const t = s.type;
  if (t === undefined) return true;
  const vt = typeOf(v);
  const fits = (x: unknown) => x === vt || (x === 'integer' && vt === 'number');
  return Array.isArray(t) ? t.some(fits) : fits(t);
}

/** An `if` that holds for `v`, as far as redaction needs: its properties' const and enum. */
function ifHolds(cond: Schema, v: unknown): boolean {
  const props = cond.properties as Record<string, Schema> | undefined;
  if (!props || typeof v !== 'object' || v === null) return false;
  for (const [k, p] of Object.entries(props)) {
    const x = (v as Record<string, unknown>)[k];
    if ('const' in p && x !== p.const) return false;
    if (Array.isArray(p.enum) && !p.enum.includes(x)) return false;
  }
  return true;
}

/** Every subschema that applies to `v` at this place (allOf, the if/then that holds, the oneOf/anyOf branches its type fits). */
function applicable(s: Schema | undefined, v: unknown, out: Schema[] = [], depth = 0): Schema[] {
  if (!s || typeof s !== 'object' || depth > 16) return out;
  out.push(s);
  for (const sub of (s.allOf as Schema[] | undefined) ?? []) applicable(sub, v, out, depth + 1);
  if (s.if && s.then && ifHolds(s.if as Schema, v)) applicable(s.then as Schema, v, out, depth + 1);
  for (const key of ['oneOf', 'anyOf'] as const) {
    for (const sub of (s[key] as Schema[] | undefined) ?? []) if (typeFits(sub, v)) applicable(sub, v, out, depth + 1);
  }
  return out;
}

function childSchema(schemas: Schema[], key: string): Schema | undefined {
  for (const s of schemas) {
    const p = (s.properties as Record<string, Schema> | undefined)?.[key];
    if (p) return p;
  }
  for (const s of schemas) if (typeof s.additionalProperties === 'object') return s.additionalProperties as Schema;
  return undefined;
}

function itemSchema(schemas: Schema[]): Schema | undefined {
  for (const s of schemas) if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) return s.items as Schema;
  return undefined;
}

function redactUrl(s: string): string {
  // scheme://user:password@host → scheme://user:[redacted]@host
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i, `$1:${REDACTED}@`);
}

/** Keeps scheme and host of a webhook URL; its path and query may be the credential. */
function redactWebhookUrl(s: string): string {
  try {
    return `${new URL(s).origin}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

/** `value` (a config, or part of one) with its secrets replaced, read against `schema` (its JSON Schema). */
export function redactConfig(value: unknown, schema?: Schema, depth = 0, parentKey = ''): unknown {
  if (depth > MAX_DEPTH) return REDACTED;
  const schemas = applicable(schema, value);
  if (schemas.some((s) => s.writeOnly === true || isSecretRefSchema(s))) return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) {
    const items = itemSchema(schemas);
    return value.map((v) => redactConfig(v, items, depth + 1, parentKey));
  }
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  if (isSecretRef(obj)) return REDACTED;
  const isJwk = typeof obj.kty === 'string';
  const out: Record<string, unknown> = {};
  const webhook = /webhook/i.test(parentKey);
  for (const [k, v] of Object.entries(obj)) {
    if (isJwk && JWK_PRIVATE.has(k)) out[k] = REDACTED;
    else if (webhook && k === 'url' && typeof v === 'string') out[k] = redactWebhookUrl(v);
    else out[k] = redactConfig(v, childSchema(schemas, k), depth + 1, k);
  }
  return out;
}
