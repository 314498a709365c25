import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkAdminToken, type AdminEnv } from '../config/env.js';
import { fileProblem } from '../core/file-error.js';

export interface AdminToken {
  token: string;
  /** Where an operator finds it: 'ZTGATE_ADMIN_TOKEN', the token file, or the demo's generated file. */
  source: string;
  /** Set when the token file can be read by others than its owner. */
  warning?: string;
  /** The demo's generated file (0600, in a fresh 0700 directory). */
  generatedFile?: string;
}

/**
 * The admin bearer token, read once in the supervisor. No token means no
 * admin listener (a listener that refuses everything helps nobody, and a
 * default port open on every test gateway would collide), except in the
 * demo, which generates a random token into a file only its user can read.
 * Throws with a precise message when a configured token is unusable.
 */
export function resolveAdminToken(admin: AdminEnv, demo: boolean): AdminToken | null {
  if (admin.port === 0) return null;
  if (admin.token !== null) return { token: admin.token, source: 'ZTGATE_ADMIN_TOKEN' };
  if (admin.tokenFile !== null) {
    let token: string;
    let mode: number;
    try {
      token = readFileSync(admin.tokenFile, 'utf8').trim();
      mode = statSync(admin.tokenFile).mode;
    } catch (err) {
      throw new Error(`ZTGATE_ADMIN_TOKEN_FILE: cannot read "${admin.tokenFile}": ${fileProblem(err)}`);
    }
    checkAdminToken(token, 'ZTGATE_ADMIN_TOKEN_FILE');
    const warning = (mode & 0o077) !== 0 ? `admin token file ${admin.tokenFile} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it` : undefined;
    return { token, source: admin.tokenFile, warning };
  }
  if (!demo) return null;
  const token = randomBytes(24).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-admin-'));
  const file = join(dir, 'token');
  // The token dies with the demo: leave no folder behind in the temp folder (SIGTERM and SIGINT exit through here too).
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, source: file, generatedFile: file };
}
