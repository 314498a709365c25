// Build step after tsc: the config schema's validator as code (ajv standalone),
// so a start or a `--check` does not compile the schema (about a second).
import { writeFileSync } from 'node:fs';
import { configSchema } from '../dist/config/schema.js';
import { PRECOMPILED_FILE } from '../dist/config/schema-validator.js';
import { precompiledValidatorSource } from '../dist/config/schema-validator-source.js';

writeFileSync(new URL(`../dist/config/${PRECOMPILED_FILE}`, import.meta.url), precompiledValidatorSource(configSchema));
