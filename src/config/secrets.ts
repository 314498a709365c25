import { readFileSync } from 'node:fs';
import type { SecretRef } from './types.js';

/** Reads a secret from the environment or a file; config never needs it inline. */
export function resolveSecret(ref: SecretRef): string {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') throw new Error(`environment variable ${ref.env} is not set`);
    return value;
  }
  try {
    return readFileSync(ref.file, 'utf8').trimEnd();
  } catch (err) {
    throw new Error(`cannot read secret file "${ref.file}" (${(err as NodeJS.ErrnoException).code})`);
  }
}
