#!/usr/bin/env node
// The tuning sweep (issue 9): how ZTGATE_PROCESSES, ZTGATE_WORKERS and
// ZTGATE_SHARDS move throughput, tail latency and CPU cost, each knob varied
// alone on the scenarios where it matters, the others at their defaults.
//
//   npm run bench:tuning [-- --quick] [-- --runs 3 --duration 5 --knobs processes,workers,shards]
//
// Per knob, one gateway per setting is started (all live together, on one
// upstream), then rounds: every setting gets an unrecorded warmup and a
// measured run (wrk, maximum throughput), settings alternating with the
// starting one rotated each round; medians over the rounds. The CPU time of
// the gateway's process group is read from /proc around each measured run:
// requests per CPU-second. Tables on stdout, every sample in
// native-bench/results/tuning-latest.json. A benchmark: it asserts nothing
// about timings. Exit codes: 0 measured, 1 nothing could be measured, 2 bad
// command line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchArgs, benchStart, runScript, runTarget, summarizeSamples } from './lib/bench-run.mjs';
import { autocannonRunner, checkOnce, wrkRunner } from './lib/loadgen.mjs';
import { fail, freePorts, installCleanup, log, setTag, state } from './lib/procs.mjs';
import { DISTINCT_TOKENS_DEFAULT, SCENARIOS, identityFixtures, ztgateConfig } from './lib/scenarios.mjs';
import { startUpstream, startZtgate } from './lib/servers.mjs';
import { fmtNum, formatTable, loadavgNow, machineInfo, ratio } from './lib/stats.mjs';
import { TokenRotation } from './lib/token-rotation.mjs';
import { detectTools } from './lib/tools.mjs';

setTag('bench-tuning');

// ---------------------------------------------------------------- knobs and scenarios

/**
 * `base`: the setting the ratios divide by. The others stay at their defaults,
 * except ZTGATE_PROCESSES, held at 1 (the benches' single-process baseline;
 * the gateway's own default is the CPU count): workers and shards are per
 * process, and one process shows what they do without the processes sharing
 * the cores.
 */
const KNOBS = {
  processes: { env: 'ZTGATE_PROCESSES', values: [1, 2], base: 1, scenarios: ['bare', 'full'] },
  workers: { env: 'ZTGATE_WORKERS', values: [1, 2, 4], base: 1, scenarios: ['jwt-distinct'] },
  shards: { env: 'ZTGATE_SHARDS', values: [1, 16, 64, 1024], base: 64, scenarios: ['ratelimit', 'ratelimit-keys'] },
};

// The worker pool also scans masked answers over 16 KiB (src/protect/stage.ts);
// no bench scenario sends one (the upstream's PII answer is ~4 KB, masked inline).
const NOT_COVERED = [
  {
    knob: 'workers',
    what: 'masked answers over 16 KiB (protect stage in the worker pool)',
    why: 'no scenario in scripts/lib/scenarios.mjs: the upstream\'s PII answer (native-bench/pii-body.mjs) is ~4 KB and is masked inline (below 16 KiB)',
  },
];

const KEYS_PATH = '/rlkeys/';
/**
 * The ratelimit scenario has one client, so one bucket: shards cannot matter
 * there. ratelimit-keys sends a different key per request (as many clients
 * would), in the Authorization header because that is the header the load
 * generators vary; the route is public, so nothing reads it as a credential.
 */
const LOCAL_SCENARIOS = {
  'ratelimit-keys': {
    what: 'rate-limit stage keyed by a header, a different key per request (many buckets), limit never reached',
    request: (fx) => ({ method: 'GET', path: `${KEYS_PATH}x`, tokens: fx.keysFile }),
  },
};
const scenarioOf = (name) => SCENARIOS[name] ?? LOCAL_SCENARIOS[name];

function tuningConfig({ port, upstreamPort, fx }) {
  const config = ztgateConfig({ port, upstreamPort, fx });
  config.routes.push({
    name: 'ratelimit-keys',
    match: { path: `${KEYS_PATH}*` },
    upstream: 'origin',
    public: true,
    stages: [{ type: 'rate-limit', limits: [{ rate: '10000000/s', key: ['header:authorization'] }] }],
  });
  return config;
}

// ---------------------------------------------------------------- settings

function settingsFromArgs() {
  const { v, settings: s } = benchArgs({
    outFile: 'tuning-latest.json',
    options: { knobs: { type: 'string' } },
    usage: () => `usage: npm run bench:tuning -- [--quick] [--runs N] [--duration S] [--warmup S] [--connections N]
       [--threads N] [--knobs processes,workers,shards] [--out FILE]
defaults: 3 rounds of 5 s after 1 s warmup per setting, 64 connections, 1 wrk thread, every knob
--quick:  1 round of 2 s after 1 s warmup (a smoke run, about a minute and a half; its numbers mean little)
knobs (each varied alone, the others at their defaults; ZTGATE_PROCESSES held at 1 for the others):
${Object.entries(KNOBS).map(([k, d]) => `  ${k.padEnd(10)} ${d.env} ${d.values.join(', ')} on ${d.scenarios.join(', ')}`).join('\n')}
results:  native-bench/results/tuning-latest.json unless --out FILE
`,
  });
  const knobs = v.knobs === undefined ? Object.keys(KNOBS) : v.knobs.split(',').map((x) => x.trim()).filter(Boolean);
  if (knobs.length === 0) fail(`--knobs: name at least one of ${Object.keys(KNOBS).join(', ')}`, 2);
  for (const k of knobs) if (!Object.hasOwn(KNOBS, k)) fail(`--knobs: unknown knob "${k}" (known: ${Object.keys(KNOBS).join(', ')})`, 2);
  s.knobs = Object.keys(KNOBS).filter((k) => knobs.includes(k)); // fixed order, no duplicates
  return s;
}

const settings = settingsFromArgs();
installCleanup();

// ---------------------------------------------------------------- rounds

/** Rounds over one knob's targets: per scenario, its settings in turn, the first rotated each round. */
async function rounds(load, knob, targets) {
  const samples = new Map(targets.map((t) => [t.name, []]));
  const scenarios = [...new Set(targets.map((t) => t.scenario))];
  for (let r = 0; r < settings.runs; r++) {
    for (const sc of scenarios) {
      const group = targets.filter((t) => t.scenario === sc);
      const order = group.map((_, i) => group[(i + r) % group.length]);
      for (const t of order) {
        if (state.interrupted) return samples;
        const s = await runTarget(load, t, settings, `${knob} ${r + 1}/${settings.runs}`);
        if (s) samples.get(t.name).push({ ...s, round: r + 1 });
      }
    }
  }
  return samples;
}

const summarize = (t, ss) => ({ scenario: t.scenario, value: t.value, ...summarizeSamples(ss) });

// ---------------------------------------------------------------- one knob

/** Starts one gateway per setting of `knob`, checks each scenario once, runs the rounds, stops them. */
async function sweepKnob(knob, ctx) {
  const d = KNOBS[knob];
  const targets = [];
  const gateways = [];
  const skipped = [];
  const skip = (name, reason) => {
    skipped.push({ name, reason });
    log(`${name}: skipped: ${reason}`);
  };
  for (const value of d.values) {
    const [port, gossip] = await freePorts(2);
    // '' is "unset" for the gateway (its default), whatever this shell exports.
    const env = { ZTGATE_WORKERS: '', ZTGATE_SHARDS: '', ZTGATE_GOSSIP_PORT: String(gossip) };
    if (knob !== 'processes') env[d.env] = String(value);
    const name = `ztgate-${knob}-${value}`;
    const r = await startZtgate({
      name, tmpDir: ctx.tmpDir, port, env,
      processes: knob === 'processes' ? value : 1,
      config: tuningConfig({ port, upstreamPort: ctx.upstreamPort, fx: ctx.fx }),
    });
    if (!r.ok) {
      skip(`${d.env}=${value}`, r.reason);
      continue;
    }
    ctx.versions.ztgate = r.version;
    gateways.push(r.child);
    for (const scenario of d.scenarios) {
      const request = scenarioOf(scenario).request(ctx.fx);
      targets.push({
        name: `${scenario} ${d.env}=${value}`, scenario, value, child: r.child, port, request,
        rotation: request.tokens ? ctx.rotations[scenario] : null,
      });
    }
  }
  // Every target must answer its request with a 2xx before it is measured.
  for (const t of [...targets]) {
    const c = await checkOnce(`http://127.0.0.1:${t.port}`, t.request);
    if (!c.ok) {
      skip(t.name, c.reason);
      targets.splice(targets.indexOf(t), 1);
    } else if ((t.scenario === 'masked' || t.scenario === 'full') && c.body.includes('4111 1111 1111 1111')) {
      fail(`${t.name}: the card number came back unmasked`);
    }
  }
  const samples = targets.length ? await rounds(ctx.load, knob, targets) : new Map();
  await Promise.all(gateways.map((g) => g.stop()));

  const runs = [];
  // Grouped by scenario, settings ascending: the table reads down one scenario at a time.
  const byScenario = (a, b) => d.scenarios.indexOf(a.scenario) - d.scenarios.indexOf(b.scenario) || a.value - b.value;
  for (const t of [...targets].sort(byScenario)) {
    const ss = samples.get(t.name);
    if (ss.length === 0) skip(t.name, 'no successful run');
    else runs.push(summarize(t, ss));
  }
  for (const r of runs) {
    const b = runs.find((x) => x.scenario === r.scenario && x.value === d.base);
    r.vs_base = { rps: ratio(r.rps, b?.rps), p99: ratio(r.p99_ms, b?.p99_ms), req_per_cpu_s: ratio(r.req_per_cpu_s, b?.req_per_cpu_s) };
  }
  return {
    knob,
    env: d.env,
    values: d.values,
    base: d.base,
    scenarios: d.scenarios.map((s) => ({ name: s, what: scenarioOf(s).what })),
    runs,
    skipped,
    not_covered: NOT_COVERED.filter((n) => n.knob === knob),
  };
}

// ---------------------------------------------------------------- main

function measurementsPerRound(knobs) {
  return knobs.reduce((a, k) => a + KNOBS[k].values.length * KNOBS[k].scenarios.length, 0);
}

function printKnob(w, k) {
  const d = KNOBS[k.knob];
  w(`\n${d.env} (${d.scenarios.join(', ')}): medians over ${settings.runs} round(s); ratios against ${d.env}=${d.base}\n`);
  const rows = k.runs.map((r) => [
    r.scenario, String(r.value), String(Math.round(r.rps)), fmtNum(r.p50_ms, 3), fmtNum(r.p99_ms, 3), fmtNum(r.p999_ms, 3),
    r.req_per_cpu_s == null ? '-' : String(r.req_per_cpu_s), String(r.errors_total),
    r.vs_base.rps == null ? '-' : `${r.vs_base.rps.toFixed(2)}x`, r.vs_base.req_per_cpu_s == null ? '-' : `${r.vs_base.req_per_cpu_s.toFixed(2)}x`,
  ]);
  for (const s of k.skipped) rows.push([s.name, 'skipped', '', '', '', '', '', '', '', '']);
  w(`${formatTable(['scenario', d.env, 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'req/CPU-s', 'errors', 'req/s vs base', 'req/CPU-s vs base'], rows)}\n`);
  for (const n of k.not_covered) w(`not measured: ${n.what}: ${n.why}\n`);
}

async function main() {
  const { loadavgAtStart, tmpDir } = benchStart('bench-tuning');
  const { wrk } = detectTools();
  let load = autocannonRunner();
  if (wrk) load = wrkRunner(wrk, { tmpDir, threads: settings.threads });
  else log('wrk is not installed (scripts/install-bench-tools.sh): autocannon measures instead; it saturates earlier than wrk');

  const want = new Set(settings.knobs.flatMap((k) => KNOBS[k].scenarios));
  if (want.has('jwt-distinct')) log(`signing ${DISTINCT_TOKENS_DEFAULT} distinct ES256 tokens...`);
  const fx = identityFixtures(tmpDir, want.has('jwt-distinct') ? DISTINCT_TOKENS_DEFAULT : 0);
  const rotations = {};
  if (want.has('jwt-distinct')) rotations['jwt-distinct'] = new TokenRotation(fx.tokensFile, tmpDir);
  if (want.has('ratelimit-keys')) {
    fx.keysFile = path.join(tmpDir, 'keys.txt');
    fs.writeFileSync(fx.keysFile, Array.from({ length: DISTINCT_TOKENS_DEFAULT }, (_, i) => `k${i}\n`).join(''));
    rotations['ratelimit-keys'] = new TokenRotation(fx.keysFile, tmpDir);
  }

  const [upstreamPort] = await freePorts(1);
  await startUpstream(upstreamPort);
  const per = settings.duration_s + settings.warmup_s;
  const count = measurementsPerRound(settings.knobs);
  log(`${settings.runs} round(s) x ${count} setting-scenario pair(s) x (${settings.warmup_s} s warmup + ${settings.duration_s} s) ≈ ` +
    `${Math.round(settings.runs * count * per)} s of load, plus gateway starts; ${settings.connections} connections, ${load.name}`);

  const ctx = { tmpDir, fx, rotations, upstreamPort, load, versions: {} };
  const knobs = [];
  for (const k of settings.knobs) {
    if (state.interrupted) break;
    knobs.push(await sweepKnob(k, ctx));
  }
  const measured = knobs.reduce((a, k) => a + k.runs.length, 0);

  const cpus = os.availableParallelism();
  const result = {
    machine: machineInfo(loadavgAtStart),
    loadavgAtEnd: loadavgNow(),
    settings: {
      ...settings,
      load_generator: `${load.name}${load.version ? ` ${load.version}` : ''}`,
      order: 'per knob and scenario, the settings in turn, the starting one rotated each round',
      aggregate: 'median over rounds',
      cpu: 'utime+stime of the gateway process group from /proc, measured run only',
      // Mirrors the defaults in src/config/env.ts, for the reader of the JSON.
      others_at: { ZTGATE_PROCESSES: 1, ZTGATE_WORKERS: `unset (default min(4, CPUs-1) = ${Math.max(1, Math.min(4, cpus - 1))} here)`, ZTGATE_SHARDS: 'unset (default 64)' },
      distinct_tokens: want.has('jwt-distinct') || want.has('ratelimit-keys') ? DISTINCT_TOKENS_DEFAULT : null,
      versions: ctx.versions,
    },
    knobs,
  };
  fs.mkdirSync(path.dirname(path.resolve(settings.out)), { recursive: true });
  fs.writeFileSync(settings.out, `${JSON.stringify(result, null, 2)}\n`);

  const w = process.stdout.write.bind(process.stdout);
  w(`\ntuning sweep: ${settings.runs} round(s) of ${settings.duration_s} s, ${settings.connections} connections, ${result.settings.load_generator}` +
    `${settings.quick ? ' (--quick: a smoke run, not a measurement)' : ''}\n`);
  for (const k of knobs) printKnob(w, k);
  if (cpus < 4) w(`\n(this machine has ${cpus} CPUs, shared by the load generator, the upstream and the gateway: settings above ${cpus - 1} processes or threads cannot get free cores here)\n`);
  w(`results: ${path.relative(process.cwd(), path.resolve(settings.out)) || settings.out}\n`);
  if (measured === 0 && !state.interrupted) fail('nothing could be measured');
}

await runScript(main);
