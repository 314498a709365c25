// Writes config.schema.json (for editors) and docs/configuration.md (the reference) from the
// schema the gateway validates with.
import { writeFileSync } from 'node:fs';
import { configSchema } from '../dist/config/schema.js';
import { configReference } from '../dist/config/reference.js';

const schemaFile = new URL('../config.schema.json', import.meta.url);
writeFileSync(schemaFile, JSON.stringify(configSchema, null, 2) + '\n');
const referenceFile = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(referenceFile, configReference(JSON.parse(JSON.stringify(configSchema))));
console.log(`wrote ${schemaFile.pathname} and ${referenceFile.pathname}`);
