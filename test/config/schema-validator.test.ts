import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import AjvModule, { type ValidateFunction } from 'ajv';
import { configSchema } from '../../src/config/schema.js';
import { AJV_OPTIONS, PRECOMPILED_FILE, schemaHash, schemaValidator } from '../../src/config/schema-validator.js';
import { precompiledValidatorSource } from '../../src/config/schema-validator-source.js';
import { parseYaml } from '../../src/config/load.js';
import { ROOT } from '../helpers/gateway.js';

// The gateway in dist/ validates configs with the file the build generated;
// these tests prove it is the current schema's validator, and that it is
// only used when it is.

const shipped = join(ROOT, 'dist/config', PRECOMPILED_FILE);
const Ajv = AjvModule as unknown as typeof AjvModule.default;
const compiled = new Ajv(AJV_OPTIONS).compile(configSchema);
const precompiled = createRequire(import.meta.url)(shipped).default as ValidateFunction;

t.test('the shipped validator is what the current schema generates (run `npm run build` after a schema change)', async (t) => {
  t.equal(readFileSync(shipped, 'utf8'), precompiledValidatorSource(configSchema));
});

t.test('the gateway in dist/ takes the shipped validator', async (t) => {
  const dist = (await import(pathToFileURL(join(ROOT, 'dist/config/schema-validator.js')).href)) as { schemaValidator: typeof schemaValidator };
  t.equal(dist.schemaValidator(configSchema), precompiled);
});

/** Runs `validate` on a copy; returns the copy (defaults filled in) and the errors. */
function outcome(validate: ValidateFunction, input: unknown) {
  const data = structuredClone(input);
  const ok = validate(data);
  return { ok, data, errors: validate.errors ?? null };
}

const base = () => ({
  listeners: [{ name: 'l', port: 8080 }],
  upstreams: [{ name: 'orders', targets: [{ url: 'http://127.0.0.1:9000' }] }],
  routes: [{ name: 'r', match: { path: '/orders/*' }, upstream: 'orders', public: true }],
});

t.test('precompiled and compiled validators agree: defaults, errors, every stage', async (t) => {
  const example = parseYaml(readFileSync(join(ROOT, 'examples/gateway.yaml'), 'utf8'), 'gateway.yaml');
  const stages = ['identity', 'rate-limit', 'validate', 'concurrency', 'inspect', 'protect', 'headers'];
  const cases: [string, unknown][] = [
    ['minimal config (defaults filled in)', base()],
    ['examples/gateway.yaml', example],
    ['unknown field', { ...base(), listenrs: [] }],
    ['missing routes', { listeners: base().listeners, upstreams: base().upstreams }],
    ['port out of range', { ...base(), listeners: [{ name: 'l', port: 70000 }] }],
    ['bad name pattern', { ...base(), listeners: [{ name: '-x', port: 1 }] }],
    ['unknown stage type', { ...base(), routes: [{ ...base().routes[0], stages: [{ type: 'nope' }] }] }],
    ...stages.map((type): [string, unknown] => [`bare ${type} stage`, { ...base(), routes: [{ ...base().routes[0], stages: [{ type }] }] }]),
    ...stages.map((type): [string, unknown] => [`${type} stage with an unknown option`, { ...base(), routes: [{ ...base().routes[0], stages: [{ type, bogus: 1 }] }] }]),
    ['not an object', 'listeners: []'],
  ];
  for (const [name, input] of cases) t.same(outcome(precompiled, input), outcome(compiled, input), name);
  t.ok(outcome(precompiled, base()).ok, 'a good config passes');
  t.notOk(outcome(precompiled, { ...base(), listenrs: [] }).ok, 'a bad config fails');
  t.equal((outcome(precompiled, base()).data as { listeners: { host?: string }[] }).listeners[0].host, '0.0.0.0', 'defaults are filled in');
});

t.test('a generated file from another schema is not used; a missing one is not needed', async (t) => {
  // A small schema stands in for the config schema: the choice does not depend on
  // the schema, and compiling the real one each time would cost a second apiece.
  const schema = { type: 'object', additionalProperties: false, properties: { a: { type: 'integer' } } };
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-validator-'));
  const write = (name: string, hash: string) => {
    const file = join(dir, name);
    // Accepts anything: if it were used, the bad input below would pass.
    writeFileSync(file, `module.exports = () => true; module.exports.default = module.exports; module.exports.schemaHash = ${JSON.stringify(hash)};\n`);
    return pathToFileURL(file);
  };
  const bad = { b: 1 };

  const stale = schemaValidator(schema, write('stale.cjs', schemaHash({ ...schema, title: 'older' })));
  t.notOk(stale(bad), 'stale file ignored: the schema was compiled');
  t.ok(stale({ a: 1 }), 'and the compiled validator passes good input');

  const missing = schemaValidator(schema, pathToFileURL(join(dir, 'absent.cjs')));
  t.notOk(missing(bad), 'no file: the schema was compiled');

  const current = schemaValidator(schema, write('current.cjs', schemaHash(schema)));
  t.ok(current(bad), 'a file stamped with this schema is taken as is');
});
