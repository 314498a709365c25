// CPU pinning for `--pin` runs: the server measured alone on one core, the load
// generator and the upstream on the other, so that a 2-core machine tells the
// server's own latency apart from the scheduler sharing cores between the three.
// taskset (util-linux) sets the affinity of running processes; threads started
// later (worker pools) inherit it.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { groupPids } from './cpu.mjs';
import { findBin } from './procs.mjs';

export const SERVER_CPUS = '0';
export const LOAD_CPUS = '1';

/** Why pinning cannot be done here, or null when it can. */
export function pinUnavailable() {
  if (os.availableParallelism() < 2) return 'needs at least 2 CPUs';
  if (!findBin('taskset')) return 'taskset (util-linux) is not installed';
  return null;
}

/** Every thread of every process in group `pgid` onto `cpus` (a taskset list such as "0"). */
export function pinGroup(pgid, cpus) {
  const pids = groupPids(pgid);
  if (pids.length === 0) throw new Error(`no process in group ${pgid} to pin`);
  for (const pid of pids) {
    const r = spawnSync('taskset', ['-a', '-cp', cpus, String(pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`taskset -a -cp ${cpus} ${pid} failed: ${(r.stderr || '').trim()}`);
  }
  return pids.length;
}
