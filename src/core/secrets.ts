import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileProblem } from './file-error.js';

/** A secret is never required inline: it comes from the environment or a file. */
export type SecretRef = { env: string } | { file: string };

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
    throw new Error(`cannot read secret file "${ref.file}": ${fileProblem(err)}`);
  }
}

/** The object of `key` alone, a string: in the config schema only secret references look so (`{ file }`, `{ env }`). */
function isRef(v: unknown, key: 'file' | 'env'): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === key && typeof (v as Record<string, unknown>)[key] === 'string';
}

/**
 * Makes every `{ file }` secret under `node` absolute, relative to `baseDir` (the
 * config file's folder), wherever it sits: a section, a stage's options, a header
 * map. The gateway's working directory never decides which file a secret is.
 */
export function resolveSecretFiles(node: unknown, baseDir: string): void {
  if (node === null || typeof node !== 'object') return;
  for (const v of Object.values(node)) {
    if (isRef(v, 'file')) (v as { file: string }).file = resolve(baseDir, (v as { file: string }).file);
    else resolveSecretFiles(v, baseDir);
  }
}

/** `at.path: reason` for every secret reference under `node` that cannot be read now. */
export function unreadableSecrets(node: unknown, at: string, issues: string[]): void {
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    const path = Array.isArray(node) ? `${at}[${k}]` : `${at}.${k}`;
    if (!isRef(v, 'file') && !isRef(v, 'env')) {
      unreadableSecrets(v, path, issues);
      continue;
    }
    try {
      resolveSecret(v as SecretRef);
    } catch (err) {
      issues.push(`${path}: ${(err as Error).message}`);
    }
  }
}
