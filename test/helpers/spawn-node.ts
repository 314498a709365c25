import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Starts a Node script of the repository (the gateway's CLI, a bench or load
 * script) as a test's child process, stdout and stderr piped.
 *
 * Under tap, every child gets tap's process tracker (@tapjs/processinfo: an
 * ESM loader hook and an inspector coverage session) put back into its
 * NODE_OPTIONS by a hook on spawn, whatever env the test passes. It costs a
 * gateway about 1.5 s more to start and 0.4 s more to stop (2-core VM, one
 * process). So the child is started through `env -u NODE_OPTIONS`, and Node's
 * own coverage collector (NODE_V8_COVERAGE, written where tap's report reads)
 * keeps the child's coverage in the report. What is lost: tap's record of the
 * child (.tap/processinfo), which only `tap --changed` reads.
 */
export function spawnNode(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): ChildProcessByStdio<null, Readable, Readable> {
  const env: Record<string, string | undefined> = { ...(options.env ?? process.env) };
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  const tracker = /"?--import=[^"\s]*@tapjs[\\/]processinfo[^"\s]*"?/;
  if (!tracker.test(process.env.NODE_OPTIONS ?? '')) return spawn(process.execPath, args, { cwd: options.cwd, env, stdio });
  const nodeOptions = (env.NODE_OPTIONS ?? '').replace(tracker, '').trim();
  delete env.NODE_OPTIONS;
  if (env._TAPJS_PROCESSINFO_COVERAGE_ === '1' && env._TAPJS_PROCESSINFO_CWD_) {
    env.NODE_V8_COVERAGE = join(env._TAPJS_PROCESSINFO_CWD_, '.tap/coverage');
  }
  // env(1) execs node: the child's pid is node's, signals reach it directly.
  const unset = ['-u', 'NODE_OPTIONS', ...(nodeOptions ? [`NODE_OPTIONS=${nodeOptions}`] : [])];
  return spawn('/usr/bin/env', [...unset, process.execPath, ...args], { cwd: options.cwd, env, stdio });
}
