#!/usr/bin/env node
// Native comparison bench: ztgate (1 process) vs nginx (1 worker) vs HAProxy
// (1 thread) vs the upstream itself, same upstream, same load generator.
//
//   npm run bench:native        (node scripts/bench-native.mjs)
//
// Env (all optional):
//   BENCH_DURATION     seconds per measured run          (default 5)
//   BENCH_CONNECTIONS  concurrent client connections     (default 64)
//   BENCH_THREADS      load-generator threads            (default 1)
//   BENCH_WARMUP       seconds of unrecorded warmup per target per round (default 1, 0 = none)
//   BENCH_RUNS         rounds over all targets           (default 3)
//   BENCH_TARGETS      comma list to restrict targets    (default all: direct,ztgate-1p,nginx-1w,haproxy-1t,
//                      ztgate-jwt-cached,ztgate-jwt-distinct,ztgate-apikey,ztgate-ratelimit,ztgate-inspect)
//   BENCH_DISTINCT_TOKENS  distinct ES256 tokens for ztgate-jwt-distinct (default 150000)
//   BENCH_KEEP_TMP=1   keep the temp dir (configs, logs) instead of deleting it
//   BENCH_ZTGATE_CLI   gateway entry point to run            (default dist/cli.js)
//
// This is a benchmark, not a test: it asserts nothing about timings. It exits
// non-zero only when it cannot measure anything (no load generator, upstream
// does not start, interrupted). See native-bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { autocannonRunner, wrkRunner } from './lib/loadgen.mjs';
import { ROOT, fail, freePorts, installCleanup, log, readVersion, setTag, setTmpDir, state } from './lib/procs.mjs';
import { SCENARIOS, identityFixtures, ztgateConfig } from './lib/scenarios.mjs';
import { startHaproxy, startNginx, startUpstream, startZtgate } from './lib/servers.mjs';
import { fmtNum, formatTable, loadavgNow, machineInfo, median, ratio, round } from './lib/stats.mjs';
import { ensureTools } from './lib/tools.mjs';
import { runScript } from './lib/bench-run.mjs';

setTag('bench-native');

const RESULTS_FILE = path.join(ROOT, 'native-bench', 'results', 'latest.json');
const ALL_TARGETS = ['direct', 'ztgate-1p', 'nginx-1w', 'haproxy-1t', 'ztgate-jwt-cached', 'ztgate-jwt-distinct', 'ztgate-apikey', 'ztgate-ratelimit', 'ztgate-inspect'];
/** Stage targets run on the ztgate-1p process, each on its scenario's route (scripts/lib/scenarios.mjs). */
const STAGE_SCENARIOS = {
  'ztgate-jwt-cached': 'jwt',
  'ztgate-jwt-distinct': 'jwt-distinct',
  'ztgate-apikey': 'apikey',
  'ztgate-ratelimit': 'ratelimit',
  'ztgate-inspect': 'inspect',
};
const DISTINCT_TOKENS = Number(process.env.BENCH_DISTINCT_TOKENS || 150000);

// ---------------------------------------------------------------- settings

function envNum(name, def, { min = 0, integer = true } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    fail(`${name}=${raw} is not a valid value (want ${integer ? 'an integer' : 'a number'} >= ${min})`);
  }
  return v;
}

const settings = {
  duration_s: envNum('BENCH_DURATION', 5, { min: 1 }),
  connections: envNum('BENCH_CONNECTIONS', 64, { min: 1 }),
  threads: envNum('BENCH_THREADS', 1, { min: 1 }),
  warmup_s: envNum('BENCH_WARMUP', 1, { min: 0 }),
  runs: envNum('BENCH_RUNS', 3, { min: 1 }),
};
if (settings.threads > settings.connections) {
  fail(`BENCH_THREADS (${settings.threads}) must not exceed BENCH_CONNECTIONS (${settings.connections})`);
}
const wantedTargets = (process.env.BENCH_TARGETS || ALL_TARGETS.join(','))
  .split(',').map((s) => s.trim()).filter(Boolean);
for (const t of wantedTargets) {
  if (!ALL_TARGETS.includes(t)) fail(`BENCH_TARGETS: unknown target "${t}" (known: ${ALL_TARGETS.join(', ')})`);
}

installCleanup();

// ---------------------------------------------------------------- main

let startLoadavg = null;

async function main() {
  startLoadavg = loadavgNow();
  if (startLoadavg[0] > os.cpus().length / 2) {
    log(`note: the machine is already busy (load average ${startLoadavg[0]} on ${os.cpus().length} CPUs); expect noisy numbers`);
  }
  const tools = ensureTools({ nginx: wantedTargets.includes('nginx-1w'), haproxy: wantedTargets.includes('haproxy-1t') });
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ztgate-bench-native-'));
  setTmpDir(tmpDir);
  let load;
  if (tools.wrk) {
    load = wrkRunner(tools.wrk, { tmpDir, threads: settings.threads });
  } else {
    log('wrk is still missing after install-bench-tools.sh; falling back to autocannon (node_modules/autocannon). ' +
      'Numbers are not comparable with wrk runs: autocannon is a Node process and saturates earlier.');
    load = autocannonRunner();
  }

  const [upPort, ztPort, ngPort, haPort] = await freePorts(4);
  log(`temp dir ${tmpDir}; load generator ${load.name} ${load.version || ''}`.trimEnd());

  const upstream = await startUpstream(upPort);
  log(`upstream ready on 127.0.0.1:${upPort}`);

  const targets = [];
  const skipped = [];
  const versions = { upstream: `uWebSockets.js (${readVersion(path.join(ROOT, 'node_modules', 'uWebSockets.js', 'package.json')) || '?'})` };
  const skip = (name, reason) => {
    skipped.push({ name, reason });
    log(`${name}: ${reason}`);
  };
  const bare = SCENARIOS.bare.request();

  if (wantedTargets.includes('direct')) targets.push({ name: 'direct', port: upPort, child: upstream, request: bare });

  const stageTargets = wantedTargets.filter((t) => STAGE_SCENARIOS[t]);
  if (wantedTargets.includes('ztgate-1p') || stageTargets.length) {
    const distinct = wantedTargets.includes('ztgate-jwt-distinct') ? DISTINCT_TOKENS : 0;
    if (distinct) log(`ztgate-jwt-distinct: signing ${distinct} distinct ES256 tokens (BENCH_DISTINCT_TOKENS)...`);
    const fx = identityFixtures(tmpDir, distinct);
    const r = await startZtgate({ name: 'ztgate-1p', tmpDir, port: ztPort, config: ztgateConfig({ port: ztPort, upstreamPort: upPort, fx }) });
    if (!r.ok) skip('ztgate-1p', `${r.reason}; skipping ztgate`);
    else {
      versions.ztgate = r.version;
      log(`ztgate-1p ready on 127.0.0.1:${ztPort}`);
      if (wantedTargets.includes('ztgate-1p')) targets.push({ name: 'ztgate-1p', port: ztPort, child: r.child, request: bare });
      for (const name of stageTargets) {
        targets.push({ name, port: ztPort, child: r.child, request: SCENARIOS[STAGE_SCENARIOS[name]].request(fx) });
      }
    }
  }

  if (wantedTargets.includes('nginx-1w')) {
    if (!tools.nginx) skip('nginx-1w', 'nginx is not installed (scripts/install-bench-tools.sh could not install it); skipping');
    else {
      const r = await startNginx({ bin: tools.nginx, tmpDir, port: ngPort, upstreamPort: upPort });
      if (r.ok) {
        targets.push({ name: 'nginx-1w', port: ngPort, child: r.child, request: bare });
        versions.nginx = r.version;
        log(`nginx-1w ready on 127.0.0.1:${ngPort}`);
      } else skip('nginx-1w', r.reason);
    }
  }

  if (wantedTargets.includes('haproxy-1t')) {
    if (!tools.haproxy) skip('haproxy-1t', 'haproxy is not installed (scripts/install-bench-tools.sh could not install it); skipping');
    else {
      const r = await startHaproxy({ bin: tools.haproxy, tmpDir, port: haPort, upstreamPort: upPort });
      if (r.ok) {
        targets.push({ name: 'haproxy-1t', port: haPort, child: r.child, request: bare });
        versions.haproxy = r.version;
        log(`haproxy-1t ready on 127.0.0.1:${haPort}`);
      } else skip('haproxy-1t', r.reason);
    }
  }

  if (targets.length === 0) fail('no target could be started');

  const perRun = settings.duration_s + settings.warmup_s;
  log(`${settings.runs} round(s) x ${targets.length} target(s) x (${settings.warmup_s} s warmup + ${settings.duration_s} s) ` +
    `≈ ${Math.round(settings.runs * targets.length * perRun)} s; ${settings.connections} connections, ${settings.threads} thread(s)`);

  const samples = new Map(targets.map((t) => [t.name, []]));
  const dead = new Set();
  const runOpts = { connections: settings.connections, durationS: settings.duration_s };
  for (let roundNo = 0; roundNo < settings.runs; roundNo++) {
    // Round-robin, rotating the starting target each round so no target is
    // always measured first (or right after the same neighbour).
    const order = targets.map((_, i) => targets[(i + roundNo) % targets.length]);
    for (const t of order) {
      if (state.interrupted) return;
      if (dead.has(t.name)) continue;
      if (t.child.exited) {
        dead.add(t.name);
        log(`${t.name} has stopped (${t.child.exitInfo}); no more runs for it\n${t.child.tail(10)}`);
        continue;
      }
      const base = `http://127.0.0.1:${t.port}`;
      try {
        if (settings.warmup_s > 0) await load.run(base, t.request, { ...runOpts, durationS: settings.warmup_s });
        if (state.interrupted) return;
        const s = await load.run(base, t.request, runOpts);
        s.round = roundNo + 1;
        samples.get(t.name).push(s);
        const errs = s.errors_total ? `, ${s.errors_total} errors (non2xx ${s.non2xx})` : '';
        log(`round ${roundNo + 1}/${settings.runs} ${t.name.padEnd(19)} ${Math.round(s.rps)} rps, ` +
          `p50 ${fmtNum(s.p50_ms, 3)} ms, p99 ${fmtNum(s.p99_ms, 3)} ms, p99.9 ${fmtNum(s.p999_ms, 3)} ms${errs}`);
      } catch (err) {
        if (state.interrupted) return;
        log(`round ${roundNo + 1} ${t.name}: run failed: ${err.message}`);
      }
    }
  }

  const runs = [];
  for (const t of targets) {
    const ss = samples.get(t.name);
    if (ss.length === 0) {
      skipped.push({ name: t.name, reason: 'no successful run' });
      continue;
    }
    runs.push({
      name: t.name,
      rps: round(median(ss.map((s) => s.rps)), 1),
      p50_ms: round(median(ss.map((s) => s.p50_ms))),
      p99_ms: round(median(ss.map((s) => s.p99_ms))),
      p999_ms: round(median(ss.map((s) => s.p999_ms))),
      errors_total: ss.reduce((a, s) => a + (s.errors_total || 0), 0),
      samples: ss,
    });
  }

  const by = (n) => runs.find((r) => r.name === n) || null;
  const zt = by('ztgate-1p');
  const ng = by('nginx-1w');
  const ha = by('haproxy-1t');
  const di = by('direct');
  const ratios = {
    ztgate_vs_nginx_rps: ratio(zt && zt.rps, ng && ng.rps),
    ztgate_vs_nginx_p99: ratio(zt && zt.p99_ms, ng && ng.p99_ms),
    ztgate_vs_haproxy_rps: ratio(zt && zt.rps, ha && ha.rps),
    ztgate_vs_direct_rps: ratio(zt && zt.rps, di && di.rps),
    jwt_cached_vs_bare_rps: ratio(by('ztgate-jwt-cached')?.rps, zt && zt.rps),
    jwt_distinct_es256_vs_bare_rps: ratio(by('ztgate-jwt-distinct')?.rps, zt && zt.rps),
    apikey_vs_bare_rps: ratio(by('ztgate-apikey')?.rps, zt && zt.rps),
    ratelimit_vs_bare_rps: ratio(by('ztgate-ratelimit')?.rps, zt && zt.rps),
    inspect_vs_bare_rps: ratio(by('ztgate-inspect')?.rps, zt && zt.rps),
  };

  const result = {
    machine: machineInfo(startLoadavg),
    settings: {
      ...settings,
      load_generator: `${load.name}${load.version ? ` ${load.version}` : ''}`,
      url_path: '/',
      upstream_body_bytes: 100,
      order: 'round-robin, starting target rotated each round',
      aggregate: 'median over runs',
      versions,
    },
    runs,
    skipped,
    ratios,
  };

  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  const tmpFile = `${RESULTS_FILE}.tmp`;
  fs.writeFileSync(tmpFile, `${JSON.stringify(result, null, 2)}\n`);
  fs.renameSync(tmpFile, RESULTS_FILE);

  process.stdout.write(`\nnative bench: ${settings.runs} run(s) of ${settings.duration_s} s, ${settings.connections} connections, ` +
    `${settings.threads} thread(s), ${result.settings.load_generator}; medians:\n`);
  const nginx = by('nginx-1w');
  process.stdout.write(`${formatTable(['target', 'rps', 'p50 ms', 'p99 ms', 'p99.9 ms', 'rps vs nginx'], [
    ...runs.map((x) => [x.name, x.rps == null ? '-' : Math.round(x.rps).toString(), fmtNum(x.p50_ms, 3), fmtNum(x.p99_ms, 3), fmtNum(x.p999_ms, 3),
      nginx && nginx.rps && x.rps != null ? `${(x.rps / nginx.rps).toFixed(2)}x` : '-']),
    ...skipped.map((x) => [x.name, 'skipped', '', '', '', '']),
  ])}\n`);
  const r = (x) => (x == null ? 'n/a' : `${x}x`);
  process.stdout.write(`ratios: ztgate/nginx rps ${r(ratios.ztgate_vs_nginx_rps)}, ztgate/nginx p99 ${r(ratios.ztgate_vs_nginx_p99)}, ` +
    `ztgate/haproxy rps ${r(ratios.ztgate_vs_haproxy_rps)}, ztgate/direct rps ${r(ratios.ztgate_vs_direct_rps)}\n`);
  process.stdout.write(`results: ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE}\n`);
}

await runScript(main);
