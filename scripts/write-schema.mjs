// Writes config.schema.json (for editors) from the schema the gateway validates with.
import { writeFileSync } from 'node:fs';
import { configSchema } from '../dist/config/schema.js';

const target = new URL('../config.schema.json', import.meta.url);
writeFileSync(target, JSON.stringify(configSchema, null, 2) + '\n');
console.log(`wrote ${target.pathname}`);
