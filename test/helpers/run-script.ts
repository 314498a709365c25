import { ROOT } from './gateway.js';
import { spawnNode } from './spawn-node.js';

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node script of the repository (a bench or load script) to its exit, output collected. */
export function runScript(script: string, args: string[]): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const p = spawnNode([script, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
