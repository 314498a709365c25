/**
 * The configuration reference (docs/configuration.md), generated from the
 * schema the gateway validates with, so the two cannot drift: every field
 * with its type, default and description. `npm run schema` writes it beside
 * config.schema.json; a test fails when the committed file is stale.
 */

type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  additionalProperties?: boolean | Schema;
  then?: Schema;
  if?: Schema;
};

interface Row {
  path: string;
  type: string;
  required: boolean;
  default: string;
  description: string;
}

const HEADER = `# Configuration reference

Generated from the schema the gateway validates with (\`npm run schema\` writes this file and
\`config.schema.json\`); do not edit by hand. Paths use \`[]\` for the items of a list and \`<name>\`
for the keys of a map. A secret (\`{ env: NAME }\` or \`{ file: path }\`) is never written inline.
`;

export function configReference(schema: Schema): string {
  const out: string[] = [HEADER];
  const sections = schema.properties ?? {};
  for (const [key, sub] of Object.entries(sections)) {
    const stages = key === 'routes' ? stageSchemas(sub) : [];
    out.push(`## \`${key}\`\n`);
    if (sub.description) out.push(`${sub.description}\n`);
    out.push(table(rowsOf(sub, key, (schema.required ?? []).includes(key), key === 'routes' ? skipStages : undefined)));
    for (const [type, stage] of stages) {
      out.push(`### Stage \`${type}\` (\`routes[].stages[]\` with \`type: ${type}\`)\n`);
      if (stage.description) out.push(`${stage.description}\n`);
      out.push(table(rowsOf(stage, '', false).filter((r) => r.path !== '' && r.path !== 'type')));
    }
  }
  return out.join('\n');
}

const skipStages = (path: string) => path === 'routes[].stages[]';

function stageSchemas(routes: Schema): [string, Schema][] {
  const stages = routes.items?.properties?.stages?.items;
  return (stages?.allOf ?? [])
    .map((branch): [string, Schema] | null => {
      const type = (branch.if?.properties?.type as Schema | undefined)?.const;
      return typeof type === 'string' && branch.then ? [type, branch.then] : null;
    })
    .filter((x): x is [string, Schema] => x !== null);
}

function rowsOf(s: Schema, path: string, required: boolean, skip?: (path: string) => boolean): Row[] {
  const rows: Row[] = [];
  // A list's items get no row of their own: the list's row says what they are, their fields follow.
  if (path !== '' && !path.endsWith('[]')) {
    rows.push({ path, type: typeOf(s), required, default: s.default === undefined ? '' : short(s.default), description: s.description ?? '' });
  }
  if (skip?.(path) || isSecret(s)) return rows;
  const object = objectBranch(s);
  if (object?.properties) {
    for (const [key, sub] of Object.entries(object.properties)) rows.push(...rowsOf(sub, join(path, key), (object.required ?? []).includes(key), skip));
  }
  if (object && typeof object.additionalProperties === 'object') rows.push(...rowsOf(object.additionalProperties, join(path, '<name>'), false, skip));
  const items = s.items ?? (s.oneOf ?? s.anyOf)?.find((b) => b.items)?.items;
  if (items) rows.push(...rowsOf(items, `${path}[]`, false, skip));
  for (const alt of s.oneOf ?? s.anyOf ?? []) {
    if (alt.properties && alt !== object) {
      for (const [key, sub] of Object.entries(alt.properties)) rows.push(...rowsOf(sub, join(path, key), false, skip));
    }
  }
  return dedupe(rows);
}

/** The object a field is when it is one (a plain object schema, or the object branch of a oneOf). */
function objectBranch(s: Schema): Schema | undefined {
  if (s.properties || typeof s.additionalProperties === 'object') return s;
  return (s.oneOf ?? s.anyOf)?.find((b) => b.properties && !(s.oneOf ?? []).some((o) => o !== b && o.properties));
}

/** `{ env: NAME }` or `{ file: path }`: shown as one type, not as two objects. */
function isSecret(s: Schema): boolean {
  const keys = (s.oneOf ?? []).map((b) => Object.keys(b.properties ?? {}).join());
  return keys.length === 2 && keys.includes('env') && keys.includes('file');
}

function typeOf(s: Schema): string {
  if (isSecret(s)) return 'secret (`{ env: NAME }` or `{ file: path }`)';
  if (s.const !== undefined) return `\`${short(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${short(v)}\``).join(' \\| ');
  const alts = s.oneOf ?? s.anyOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' or ');
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && typeof s.additionalProperties === 'object' && !s.properties) return `map of ${typeOf(s.additionalProperties)}`;
  return s.type ?? (s.properties ? 'object' : 'any');
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

function short(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function dedupe(rows: Row[]): Row[] {
  const seen = new Set<string>();
  return rows.filter((r) => (seen.has(r.path) ? false : (seen.add(r.path), true)));
}

function table(rows: Row[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['| field | type | default | description |', '| --- | --- | --- | --- |'];
  for (const r of rows) {
    const type = r.type.replace(/(?<!\\)\|/g, '\\|');
    lines.push(`| \`${r.path}\`${r.required ? ' (required)' : ''} | ${type} | ${r.default ? `\`${cell(r.default)}\`` : ''} | ${cell(r.description)} |`);
  }
  return `${lines.join('\n')}\n`;
}
