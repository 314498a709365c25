import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import AjvModule, { type ValidateFunction } from 'ajv';

/**
 * The config schema's validator. Compiling the schema with ajv costs about a
 * second, at every start and every `--check`; the build writes the same
 * validator as code (ajv standalone, scripts/write-validator.mjs) next to this
 * file, and that is used when it was generated from this very schema.
 */

/** Options of the compiled and the precompiled validator alike. */
export const AJV_OPTIONS = { allErrors: true, useDefaults: true, strict: false } as const;

/** Written by the build next to schema-validator.js in dist/config (absent under ts-node). */
export const PRECOMPILED_FILE = 'schema-validator.generated.cjs';

/** Names the schema and options a validator was generated from. */
export function schemaHash(schema: object): string {
  return createHash('sha256').update(JSON.stringify({ options: AJV_OPTIONS, schema })).digest('hex');
}

interface Precompiled {
  default: ValidateFunction;
  schemaHash: string;
}

/**
 * The precompiled validator in `file` if it was generated from `schema`;
 * otherwise (no build, or a dist/ rebuilt by tsc alone) ajv compiles the schema.
 */
export function schemaValidator(schema: object, file = new URL(PRECOMPILED_FILE, import.meta.url)): ValidateFunction {
  let precompiled: Precompiled | undefined;
  try {
    precompiled = createRequire(import.meta.url)(fileURLToPath(file)) as Precompiled;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
  }
  if (precompiled?.schemaHash === schemaHash(schema)) return precompiled.default;
  const Ajv = AjvModule as unknown as typeof AjvModule.default;
  return new Ajv(AJV_OPTIONS).compile(schema);
}
