// CPU time of a server's whole process group from /proc (utime + stime of
// every process in the group, threads included), so a run can be reported
// as requests per CPU-second of the gateway: on a 2-core machine the load
// generator shares the cores, and req/s alone says more about the sharing.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';

let ticksPerSecond = null;

function clockTicks() {
  if (ticksPerSecond == null) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number((r.stdout || '').trim());
    ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** The /proc stat fields (after the command name) of every live process in group `pgid`, by pid; null off Linux. */
function groupStats(pgid) {
  let entries;
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return null;
  }
  const out = new Map();
  for (const e of entries) {
    if (e.charCodeAt(0) < 48 || e.charCodeAt(0) > 57) continue;
    let text;
    try {
      text = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
    } catch {
      continue; // ended meanwhile
    }
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] state (field 3), f[2] pgrp (5), f[11] utime (14), f[12] stime (15)
    if (Number(f[2]) === pgid) out.set(Number(e), f);
  }
  return out;
}

/** CPU seconds used so far by every live process whose group is `pgid`; null off Linux. */
export function groupCpuSeconds(pgid) {
  const t = groupCpuTimes(pgid);
  return t === null ? null : t.user + t.sys;
}

/** The same, split into user and kernel seconds: a server's own code against its system calls. */
export function groupCpuTimes(pgid) {
  const stats = groupStats(pgid);
  if (stats === null) return null;
  let user = 0;
  let sys = 0;
  for (const f of stats.values()) {
    user += Number(f[11]);
    sys += Number(f[12]);
  }
  return { user: user / clockTicks(), sys: sys / clockTicks() };
}

/** The pids of the live processes in group `pgid` (empty off Linux). */
export function groupPids(pgid) {
  return [...(groupStats(pgid)?.keys() ?? [])];
}
