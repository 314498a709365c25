// What the side-by-side benches (bench-compare, bench-tuning) share: their
// common command line, one measured run (an unrecorded warmup, then the run
// with the CPU time of the target's process group read around it), a sample
// as one log line, the medians of a target's samples, and a script's end
// (children stopped, exit 130 after ^C).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { groupCpuTimes } from './cpu.mjs';
import { running } from './loadgen.mjs';
import { ROOT, fail, log, setTmpDir, state, stopAll } from './procs.mjs';
import { fmtNum, loadavgNow, median, round } from './stats.mjs';
import { runRotated } from './token-rotation.mjs';

const COMMON_OPTIONS = {
  quick: { type: 'boolean' },
  runs: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  threads: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * Parses argv strictly (exit 2 naming the bad option); `usage()` is printed for --help.
 * Returns the raw values, a number reader (`num(name, def, { min, integer })`, exit 2
 * on a bad value) and the common settings, results going to native-bench/results/`outFile`.
 */
export function benchArgs({ options = {}, usage, outFile }) {
  let v;
  try {
    ({ values: v } = parseArgs({ args: process.argv.slice(2), strict: true, options: { ...COMMON_OPTIONS, ...options } }));
  } catch (err) {
    fail(`${err.message} (--help lists the options)`, 2);
  }
  if (v.help) {
    process.stdout.write(usage());
    process.exit(0);
  }
  const num = (name, def, { min = 1, integer = true } = {}) => {
    const raw = v[name];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) fail(`--${name} ${JSON.stringify(raw)}: want ${integer ? 'an integer' : 'a number'} >= ${min}`, 2);
    return n;
  };
  if (v.out === '') fail('--out: want a file name', 2);
  const quick = Boolean(v.quick);
  const settings = {
    quick,
    runs: num('runs', quick ? 1 : 3),
    duration_s: num('duration', quick ? 2 : 5),
    warmup_s: num('warmup', 1, { min: 0, integer: false }),
    connections: num('connections', 64),
    threads: num('threads', 1),
    out: v.out ?? path.join(ROOT, 'native-bench', 'results', outFile),
  };
  return { v, num, settings };
}

/** A bench's start: the load average (said when the machine is already busy) and its temporary folder. */
export function benchStart(name) {
  const loadavgAtStart = loadavgNow();
  if (loadavgAtStart[0] > os.cpus().length / 2) {
    log(`note: the machine is already busy (load average ${loadavgAtStart[0]} on ${os.cpus().length} CPUs); expect noisy numbers`);
  }
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `ztgate-${name}-`));
  setTmpDir(tmpDir);
  return { loadavgAtStart, tmpDir };
}

/**
 * Warmup, then the measured run of target `t` ({ port, request, child, rotation?, name }).
 * A run in which no answer came is an error: wrk reports zeros then, which would pass
 * for a measurement.
 */
export async function measureRun(load, t, settings, rate = 0) {
  const base = `http://127.0.0.1:${t.port}`;
  const run = (durationS) => runRotated(load, base, t.request, { connections: settings.connections, durationS, rate }, t.rotation ?? null, t.name);
  if (settings.warmup_s > 0) await run(settings.warmup_s);
  const before = groupCpuTimes(t.child.pid);
  const s = await run(settings.duration_s);
  const after = groupCpuTimes(t.child.pid);
  if (!s.requests) throw new Error(`no response completed within ${settings.duration_s} s (${s.errors_total || 0} errors)`);
  const ok = before != null && after != null;
  s.cpu_s = ok ? round(after.user + after.sys - before.user - before.sys, 2) : null;
  s.req_per_cpu_s = s.cpu_s ? Math.round(s.requests / s.cpu_s) : null;
  // Where a request's CPU goes: the server's own code (user) or the kernel (its socket calls).
  s.user_us_per_req = ok ? round(((after.user - before.user) * 1e6) / s.requests, 1) : null;
  s.sys_us_per_req = ok ? round(((after.sys - before.sys) * 1e6) / s.requests, 1) : null;
  return s;
}

/**
 * One round's run of target `t`, said in the log under `label`: the sample, or null when
 * the target's server is gone or the run failed (the log says which).
 */
export async function runTarget(load, t, settings, label, rate = 0) {
  if (t.child.exited) {
    if (!t.dead) log(`${t.name}: its server stopped (${t.child.exitInfo}); no more runs\n${t.child.tail(10)}`);
    t.dead = true;
    return null;
  }
  try {
    const s = await measureRun(load, t, settings, rate);
    log(`${label} ${t.name.padEnd(34)} ${describeSample(s)}`);
    return s;
  } catch (err) {
    if (!state.interrupted) log(`${label} ${t.name}: run failed: ${err.message}`);
    return null;
  }
}

export function describeSample(s) {
  const errs = s.errors_total ? `, ${s.errors_total} errors (non2xx ${s.non2xx})` : '';
  return `${Math.round(s.rps)} rps${s.target_rate ? ` (asked ${s.target_rate})` : ''}, p50 ${fmtNum(s.p50_ms, 3)} ms, p99 ${fmtNum(s.p99_ms, 3)} ms, ` +
    `p99.9 ${fmtNum(s.p999_ms, 3)} ms, ${s.req_per_cpu_s ?? '-'} req/CPU-s${errs}`;
}

/** Medians over a target's samples (errors summed), with the samples minus their requests. */
export function summarizeSamples(ss) {
  const m = (k) => median(ss.map((s) => s[k]));
  return {
    rps: round(m('rps'), 1),
    p50_ms: round(m('p50_ms')),
    p99_ms: round(m('p99_ms')),
    p999_ms: round(m('p999_ms')),
    req_per_cpu_s: round(m('req_per_cpu_s'), 0),
    user_us_per_req: round(m('user_us_per_req'), 1),
    sys_us_per_req: round(m('sys_us_per_req'), 1),
    errors_total: ss.reduce((a, s) => a + (s.errors_total || 0), 0),
    samples: ss.map(({ request, ...rest }) => rest),
  };
}

/** Runs a bench's main(); whatever happens, the load generator and every child stop. */
export async function runScript(main) {
  try {
    await main();
  } finally {
    if (running.child) running.child.signalGroup('SIGKILL');
    await stopAll();
  }
  if (state.interrupted) process.exit(130);
}
