#!/usr/bin/env node
// The reference comparison (issue 9): ztgate against nginx (1 worker),
// HAProxy (1 thread) and a fastify gateway (1 process) on one upstream, plus
// ztgate's own scenarios against its bare proxy, in one run.
//
//   npm run bench:compare [-- --quick] [-- --runs 3 --duration 5 --warmup 1 --connections 64]
//
// 1. Throughput: every target gets, per round, an unrecorded warmup then a
//    measured run (same connections and duration for all), round-robin with
//    the starting target rotated each round; medians over the rounds. The CPU
//    time of the target's process group is read from /proc before and after
//    each measured run: requests per CPU-second.
// 2. Fixed rate: ztgate bare, ztgate full and nginx at 70% of their own
//    median maximum, with wrk paced by a Lua delay() (autocannon, corrected for
//    coordinated omission, when wrk is missing: it needs more CPU than the
//    gateway it loads, and on 2 cores that shows as the gateway's latency).
// Ratios and the issue's goals are printed and written with every sample to
// native-bench/results/compare-latest.json. A benchmark: it asserts nothing
// about timings; exit 1 only when nothing could be measured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchArgs, benchStart, runScript, runTarget, summarizeSamples } from './lib/bench-run.mjs';
import { autocannonRunner, checkOnce, wrkRunner } from './lib/loadgen.mjs';
import { Child, fail, findBin, freePorts, installCleanup, log, setTag, state } from './lib/procs.mjs';
import { DISTINCT_TOKENS_DEFAULT, SCENARIOS, identityFixtures, ztgateConfig } from './lib/scenarios.mjs';
import { TokenRotation } from './lib/token-rotation.mjs';
import { startFastify, startHaproxy, startNginx, startUpstream, startZtgate } from './lib/servers.mjs';
import { fmtNum, formatTable, loadavgNow, machineInfo, ratio } from './lib/stats.mjs';
import { ensureTools } from './lib/tools.mjs';
import { LOAD_CPUS, SERVER_CPUS, pinGroup, pinUnavailable } from './lib/pin.mjs';

setTag('bench-compare');

// ---------------------------------------------------------------- settings

const ALL_TARGETS = [
  'direct', 'ztgate-bare', 'nginx-1w', 'haproxy-1t', 'fastify-bare',
  'ztgate-jwt', 'fastify-jwt', 'ztgate-jwt-ratelimit', 'fastify-jwt-ratelimit',
  'ztgate-masked', 'ztgate-full', 'ztgate-2p-bare', 'ztgate-obs-off', 'ztgate-obs-on',
  'haproxy-jwt-ratelimit', 'ztgate-jwt-distinct-ratelimit', 'haproxy-jwt-distinct-ratelimit',
  'ztgate-ratelimit', 'ztgate-quota',
];
const RATE_TARGETS = ['ztgate-bare', 'ztgate-full', 'nginx-1w'];

function settingsFromArgs() {
  const { v, num, settings: s } = benchArgs({
    outFile: 'compare-latest.json',
    options: {
      targets: { type: 'string' },
      'rate-fraction': { type: 'string' },
      'no-rate': { type: 'boolean' },
      'fastify-jwt-cache': { type: 'string' },
      pin: { type: 'boolean' },
      workers: { type: 'string' },
      baseline: { type: 'string' },
    },
    usage: () => `usage: npm run bench:compare -- [--quick] [--runs N] [--duration S] [--warmup S] [--connections N]
       [--threads N] [--targets a,b,...] [--rate-fraction F] [--no-rate] [--fastify-jwt-cache on|off] [--pin] [--out FILE]
       [--workers 1,2,4] [--baseline OTHER/dist/cli.js]
defaults: 3 runs of 5 s after 1 s warmup, 64 connections, 1 wrk thread, rate phase at 0.7 of each target's maximum
--quick:  1 run of 2 s after 1 s warmup (a smoke run, about a minute; its numbers mean little)
--pin:    every target alone on CPU 0, wrk and the upstream on CPU 1 (taskset; not ztgate-2p-bare):
          the targets' own latency, apart from the scheduler sharing 2 cores with the load generator
--workers: ztgate-jwt-distinct-ratelimit once per ZTGATE_WORKERS value (its own gateway process each,
          targets named ztgate-jwt-distinct-ratelimit-w<N>); default: one, ZTGATE_WORKERS unset
--baseline: ztgate-jwt-distinct-ratelimit also on another build's cli.js (an A/B against an older dist/),
          targets named base-jwt-distinct-ratelimit[-w<N>]
targets:  ${ALL_TARGETS.join(', ')}
  (e.g. --targets ztgate-jwt-distinct-ratelimit,haproxy-jwt-distinct-ratelimit --no-rate: the distinct-token job alone)
`,
  });
  s.rate_fraction = num('rate-fraction', 0.7, { min: 0.01, integer: false });
  s.rate_phase = !v['no-rate'];
  s.fastify_jwt_cache = (v['fastify-jwt-cache'] ?? 'on') !== 'off';
  s.pin = Boolean(v.pin);
  s.workers = v.workers ? v.workers.split(',').map((x) => Number(x.trim())) : null;
  if (s.workers && s.workers.some((n) => !Number.isInteger(n) || n < 1)) fail(`--workers ${v.workers}: want integers >= 1`, 2);
  s.baseline = v.baseline ? path.resolve(v.baseline) : null;
  if (s.baseline && !fs.existsSync(s.baseline)) fail(`--baseline ${v.baseline}: no such file`, 2);
  if (s.rate_fraction > 1) fail(`--rate-fraction ${s.rate_fraction}: want at most 1`, 2);
  if (v['fastify-jwt-cache'] !== undefined && !['on', 'off'].includes(v['fastify-jwt-cache'])) fail('--fastify-jwt-cache: want on or off', 2);
  s.targets = v.targets ? v.targets.split(',').map((x) => x.trim()).filter(Boolean) : ALL_TARGETS;
  for (const t of s.targets) if (!ALL_TARGETS.includes(t)) fail(`--targets: unknown target "${t}" (known: ${ALL_TARGETS.join(', ')})`, 2);
  if (s.pin) {
    const why = pinUnavailable();
    if (why) fail(`--pin: ${why}`, 2);
    // Two gateway processes on one core measure nothing worth having.
    s.targets = s.targets.filter((t) => t !== 'ztgate-2p-bare');
  }
  return s;
}

const settings = settingsFromArgs();
installCleanup();

// ---------------------------------------------------------------- rounds

/** Round-robin over `targets`, the start rotated each round; samples per target name. */
async function rounds(load, targets, phase, rateOf = () => 0) {
  const samples = new Map(targets.map((t) => [t.name, []]));
  for (let r = 0; r < settings.runs; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]);
    for (const t of order) {
      if (state.interrupted) return samples;
      const s = await runTarget(load, t, settings, `${phase} ${r + 1}/${settings.runs}`, rateOf(t));
      if (s) samples.get(t.name).push({ ...s, round: r + 1 });
    }
  }
  return samples;
}

const summarize = (name, ss) => ({ name, ...summarizeSamples(ss) });

/** What a JWT route must refuse: no token, a tampered one (401), and fixtures' refusedTokens (401 or 403). Null when all are. */
async function checkRefusals(base, urlPath, fx) {
  const [h, p, sig] = fx.repeatedToken.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${sig}`;
  const cases = [['no token', null, [401]], ['tampered payload', tampered, [401]], ...Object.entries(fx.refusedTokens).map(([why, tok]) => [why, tok, [401, 403]])];
  for (const [why, token, statuses] of cases) {
    const res = await fetch(`${base}${urlPath}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10000) });
    await res.arrayBuffer();
    if (!statuses.includes(res.status)) return `${why}: answered ${res.status}, want ${statuses.join(' or ')}`;
  }
  return null;
}

// ---------------------------------------------------------------- main

async function main() {
  const { loadavgAtStart, tmpDir } = benchStart('bench-compare');
  const want = new Set(settings.targets);
  const tools = ensureTools({ nginx: want.has('nginx-1w'), haproxy: [...want].some((n) => n.startsWith('haproxy')) });
  const wrk = tools.wrk;
  let load = autocannonRunner();
  if (wrk) load = wrkRunner(wrk, { tmpDir, threads: settings.threads, cpus: settings.pin ? LOAD_CPUS : null });
  else if (settings.pin) fail('--pin needs wrk (scripts/install-bench-tools.sh): autocannon runs in this process', 2);
  else log('wrk is not installed (scripts/install-bench-tools.sh): autocannon measures maximum throughput too; it saturates earlier than wrk');
  const skipped = [];
  const skip = (name, reason) => {
    skipped.push({ name, reason });
    log(`${name}: skipped: ${reason}`);
  };

  const [upPort, zt1, zt2, ngPort, haPort, fyPort, gossip, zt3, zt4, haJwtPort, zt5, redisPort] = await freePorts(12);
  const distinctNeeded = ['ztgate-jwt-distinct-ratelimit', 'haproxy-jwt-distinct-ratelimit'].some((n) => want.has(n));
  if (distinctNeeded) log(`signing ${DISTINCT_TOKENS_DEFAULT} distinct ES256 tokens...`);
  const fx = identityFixtures(tmpDir, distinctNeeded ? DISTINCT_TOKENS_DEFAULT : 0);
  // Each run of a distinct-token target sends the tokens its earlier runs did not (token-rotation.mjs).
  const rotation = distinctNeeded ? new TokenRotation(fx.tokensFile, tmpDir) : null;
  const upstream = await startUpstream(upPort);
  const versions = {};
  const targets = [];
  const add = (name, child, port, scenario, as = name) => {
    if (!want.has(name)) return;
    const request = SCENARIOS[scenario].request(fx);
    targets.push({ name: as, child, port, scenario, request, ...(typeof request.tokens === 'string' ? { rotation } : {}) });
  };
  add('direct', upstream, upPort, 'bare');

  // The distinct-token job, per worker count and build (its own gateway process each, so that one
  // run's verified-token cache and pool queue are not another's).
  if (want.has('ztgate-jwt-distinct-ratelimit')) {
    const builds = [{ prefix: 'ztgate', cli: undefined }, ...(settings.baseline ? [{ prefix: 'base', cli: settings.baseline }] : [])];
    for (const w of settings.workers ?? [null]) {
      for (const b of builds) {
        const name = `${b.prefix}-jwt-distinct-ratelimit${w == null ? '' : `-w${w}`}`;
        const [port] = await freePorts(1);
        const r = await startZtgate({ name, tmpDir, port, cli: b.cli, config: ztgateConfig({ port, upstreamPort: upPort, fx }), env: w == null ? {} : { ZTGATE_WORKERS: String(w) } });
        if (!r.ok) skip(name, r.reason);
        else add('ztgate-jwt-distinct-ratelimit', r.child, port, 'jwt-distinct-ratelimit', name);
      }
    }
  }
  if (['ztgate-bare', 'ztgate-jwt', 'ztgate-jwt-ratelimit', 'ztgate-masked', 'ztgate-full', 'ztgate-ratelimit'].some((n) => want.has(n))) {
    const r = await startZtgate({ name: 'ztgate-1p', tmpDir, port: zt1, config: ztgateConfig({ port: zt1, upstreamPort: upPort, fx }) });
    if (!r.ok) skip('ztgate (1 process)', r.reason);
    else {
      versions.ztgate = r.version;
      add('ztgate-bare', r.child, zt1, 'bare');
      add('ztgate-jwt', r.child, zt1, 'jwt');
      add('ztgate-jwt-ratelimit', r.child, zt1, 'jwt-ratelimit');
      add('ztgate-masked', r.child, zt1, 'masked');
      add('ztgate-full', r.child, zt1, 'full');
      add('ztgate-ratelimit', r.child, zt1, 'ratelimit');
    }
  }
  // A quota kept in the state store against the same limit decided in the process (ztgate-ratelimit):
  // the cost of one store round trip per request. The store: redis-server on loopback, persistence off.
  if (want.has('ztgate-quota')) {
    const bin = findBin('redis-server');
    if (!bin) skip('ztgate-quota', 'redis-server is not installed (scripts/install-test-services.sh)');
    else {
      const redis = new Child('redis-server', bin, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
      const config = ztgateConfig({ port: zt5, upstreamPort: upPort, fx, stateUrl: `redis://127.0.0.1:${redisPort}` });
      const r = await startZtgate({ name: 'ztgate-quota', tmpDir, port: zt5, config });
      if (!r.ok) {
        await redis.stop();
        skip('ztgate-quota', r.reason);
      } else add('ztgate-quota', r.child, zt5, 'quota');
    }
  }
  // The cost of observability (issue #7): the bare route with metrics and access log off, and with
  // both on (info level: one access line per request, written to a pipe this script drains).
  if (want.has('ztgate-obs-off')) {
    const config = { ...ztgateConfig({ port: zt3, upstreamPort: upPort, fx }), observe: { metrics: false, accessLog: { enabled: false } } };
    const r = await startZtgate({ name: 'ztgate-obs-off', tmpDir, port: zt3, config });
    if (!r.ok) skip('ztgate-obs-off', r.reason);
    else add('ztgate-obs-off', r.child, zt3, 'bare');
  }
  if (want.has('ztgate-obs-on')) {
    const r = await startZtgate({ name: 'ztgate-obs-on', tmpDir, port: zt4, config: ztgateConfig({ port: zt4, upstreamPort: upPort, fx }), env: { ZTGATE_LOG_LEVEL: 'info' } });
    if (!r.ok) skip('ztgate-obs-on', r.reason);
    else add('ztgate-obs-on', r.child, zt4, 'bare');
  }
  if (want.has('ztgate-2p-bare')) {
    // Its own gossip ports, so that another gateway on the machine is not joined.
    const r = await startZtgate({ name: 'ztgate-2p', tmpDir, port: zt2, processes: 2, config: ztgateConfig({ port: zt2, upstreamPort: upPort, fx }), env: { ZTGATE_GOSSIP_PORT: String(gossip) } });
    if (!r.ok) skip('ztgate-2p-bare', r.reason);
    else add('ztgate-2p-bare', r.child, zt2, 'bare');
  }
  if (want.has('nginx-1w')) {
    const bin = tools.nginx;
    const r = bin ? await startNginx({ bin, tmpDir, port: ngPort, upstreamPort: upPort }) : { ok: false, reason: 'nginx is not installed (scripts/install-bench-tools.sh)' };
    if (!r.ok) skip('nginx-1w', r.reason);
    else {
      versions.nginx = r.version;
      add('nginx-1w', r.child, ngPort, 'bare');
    }
  }
  if (want.has('haproxy-1t')) {
    const bin = tools.haproxy;
    const r = bin ? await startHaproxy({ bin, tmpDir, port: haPort, upstreamPort: upPort }) : { ok: false, reason: 'haproxy is not installed (scripts/install-bench-tools.sh)' };
    if (!r.ok) skip('haproxy-1t', r.reason);
    else {
      versions.haproxy = r.version;
      add('haproxy-1t', r.child, haPort, 'bare');
    }
  }
  if (['haproxy-jwt-ratelimit', 'haproxy-jwt-distinct-ratelimit'].some((n) => want.has(n))) {
    const bin = tools.haproxy;
    const r = bin
      ? await startHaproxy({ bin, tmpDir, port: haJwtPort, upstreamPort: upPort, name: 'haproxy-jwt', jwt: { publicKeyPem: fx.publicKeyPem } })
      : { ok: false, reason: 'haproxy is not installed (scripts/install-bench-tools.sh)' };
    if (!r.ok) skip('haproxy-jwt', r.reason);
    else {
      versions.haproxy = r.version;
      add('haproxy-jwt-ratelimit', r.child, haJwtPort, 'jwt-ratelimit');
      add('haproxy-jwt-distinct-ratelimit', r.child, haJwtPort, 'jwt-distinct-ratelimit');
    }
  }
  if (['fastify-bare', 'fastify-jwt', 'fastify-jwt-ratelimit'].some((n) => want.has(n))) {
    const r = await startFastify({ tmpDir, port: fyPort, upstreamPort: upPort, publicKeyPem: fx.publicKeyPem, jwtCache: settings.fastify_jwt_cache });
    if (!r.ok) skip('fastify', r.reason);
    else {
      versions.fastify = r.version;
      add('fastify-bare', r.child, fyPort, 'bare');
      add('fastify-jwt', r.child, fyPort, 'jwt');
      add('fastify-jwt-ratelimit', r.child, fyPort, 'jwt-ratelimit');
    }
  }

  if (settings.pin) {
    for (const child of new Set(targets.filter((t) => t.child !== upstream).map((t) => t.child))) pinGroup(child.pid, SERVER_CPUS);
    pinGroup(upstream.pid, LOAD_CPUS);
    log(`pinned: targets on CPU ${SERVER_CPUS}; wrk and the upstream on CPU ${LOAD_CPUS}`);
  }

  // Every target must answer its request with a 2xx before it is measured.
  for (const t of [...targets]) {
    const c = await checkOnce(`http://127.0.0.1:${t.port}`, t.request);
    if (!c.ok) {
      skip(t.name, c.reason);
      targets.splice(targets.indexOf(t), 1);
    } else if (t.scenario === 'masked' || t.scenario === 'full') {
      if (c.body.includes('4111 1111 1111 1111')) fail(`${t.name}: the card number came back unmasked`);
    } else if (t.scenario.startsWith('jwt')) {
      // A JWT peer is measured only when it refuses what ztgate refuses.
      const wrong = await checkRefusals(`http://127.0.0.1:${t.port}`, t.request.path, fx);
      if (wrong) fail(`${t.name}: ${wrong}`);
    }
  }
  if (targets.length === 0) fail('no target could be started');

  const per = settings.duration_s + settings.warmup_s;
  const rateCount = settings.rate_phase ? targets.filter((t) => RATE_TARGETS.includes(t.name)).length : 0;
  log(`${settings.runs} round(s) x ${targets.length} target(s)${rateCount ? ` + ${rateCount} fixed-rate` : ''} x (${settings.warmup_s} s warmup + ` +
    `${settings.duration_s} s) ≈ ${Math.round(settings.runs * (targets.length + rateCount) * per)} s; ${settings.connections} connections, ${load.name}`);

  const maxSamples = await rounds(load, targets, 'max');
  const runs = [];
  for (const t of targets) {
    const ss = maxSamples.get(t.name);
    if (ss.length === 0) skip(t.name, 'no successful run');
    else runs.push(summarize(t.name, ss));
  }
  const by = (n) => runs.find((r) => r.name === n) ?? null;

  let rateRuns = [];
  if (settings.rate_phase && !state.interrupted) {
    const rateTargets = targets.filter((t) => RATE_TARGETS.includes(t.name) && by(t.name)?.rps);
    const rateOf = (t) => Math.max(1, Math.round(by(t.name).rps * settings.rate_fraction));
    // wrk paced when installed: autocannon needs more CPU than the gateway it loads on 2 cores.
    const rs = await rounds(load, rateTargets, 'rate', rateOf);
    rateRuns = rateTargets.filter((t) => rs.get(t.name).length).map((t) => ({ ...summarize(t.name, rs.get(t.name)), rate: rateOf(t) }));
  }
  const rateBy = (n) => rateRuns.find((r) => r.name === n) ?? null;

  // With --workers, the distinct-token ratios take the gateway at the default ZTGATE_WORKERS.
  const defaultWorkers = Math.max(1, Math.min(4, os.cpus().length - 1));
  const distinctDefault = by('ztgate-jwt-distinct-ratelimit') ? 'ztgate-jwt-distinct-ratelimit' : `ztgate-jwt-distinct-ratelimit-w${defaultWorkers}`;
  const rps = (n) => by(n)?.rps;
  const cpu = (n) => by(n)?.req_per_cpu_s;
  const ratios = {
    ztgate_vs_nginx_rps: ratio(rps('ztgate-bare'), rps('nginx-1w')),
    ztgate_vs_nginx_p99: ratio(by('ztgate-bare')?.p99_ms, by('nginx-1w')?.p99_ms),
    ztgate_vs_haproxy_rps: ratio(rps('ztgate-bare'), rps('haproxy-1t')),
    ztgate_vs_fastify_rps: ratio(rps('ztgate-bare'), rps('fastify-bare')),
    ztgate_vs_direct_rps: ratio(rps('ztgate-bare'), rps('direct')),
    jwt_ztgate_vs_fastify_rps: ratio(rps('ztgate-jwt'), rps('fastify-jwt')),
    jwt_ratelimit_ztgate_vs_fastify_rps: ratio(rps('ztgate-jwt-ratelimit'), rps('fastify-jwt-ratelimit')),
    masked_vs_bare_rps: ratio(rps('ztgate-masked'), rps('ztgate-bare')),
    full_vs_bare_rps: ratio(rps('ztgate-full'), rps('ztgate-bare')),
    processes_2_vs_1_rps: ratio(rps('ztgate-2p-bare'), rps('ztgate-bare')),
    observe_on_vs_off_rps: ratio(rps('ztgate-obs-on'), rps('ztgate-obs-off')),
    observe_on_vs_off_req_per_cpu_s: ratio(cpu('ztgate-obs-on'), cpu('ztgate-obs-off')),
    ztgate_vs_nginx_req_per_cpu_s: ratio(cpu('ztgate-bare'), cpu('nginx-1w')),
    jwt_ratelimit_ztgate_vs_fastify_req_per_cpu_s: ratio(cpu('ztgate-jwt-ratelimit'), cpu('fastify-jwt-ratelimit')),
    jwt_ratelimit_ztgate_vs_haproxy_req_per_cpu_s: ratio(cpu('ztgate-jwt-ratelimit'), cpu('haproxy-jwt-ratelimit')),
    jwt_distinct_ztgate_vs_haproxy_rps: ratio(rps(distinctDefault), rps('haproxy-jwt-distinct-ratelimit')),
    jwt_distinct_ztgate_vs_haproxy_req_per_cpu_s: ratio(cpu(distinctDefault), cpu('haproxy-jwt-distinct-ratelimit')),
    jwt_distinct_ztgate_vs_haproxy_p99: ratio(by(distinctDefault)?.p99_ms, by('haproxy-jwt-distinct-ratelimit')?.p99_ms),
    quota_store_vs_local_rps: ratio(rps('ztgate-quota'), rps('ztgate-ratelimit')),
    quota_store_vs_local_req_per_cpu_s: ratio(cpu('ztgate-quota'), cpu('ztgate-ratelimit')),
  };
  const goal = (name, value, want, cmp) => ({ goal: name, value, want, met: value == null ? null : cmp(value) });
  const goals = [
    goal('bare proxy req/s vs nginx (1 process each)', ratios.ztgate_vs_nginx_rps, '>= 1.0x', (x) => x >= 1),
    goal('bare proxy p99 vs nginx', ratios.ztgate_vs_nginx_p99, '<= 1.0x', (x) => x <= 1),
    goal('full pipeline vs own bare proxy', ratios.full_vs_bare_rps, '>= 0.7x', (x) => x >= 0.7),
    goal('JWT + rate limit vs fastify JWT + rate limit', ratios.jwt_ratelimit_ztgate_vs_fastify_rps, '>= 5x', (x) => x >= 5),
    goal(`bare p99.9 at ${settings.rate_fraction} of max rate (ms)`, rateBy('ztgate-bare')?.p999_ms ?? null, '<= 5 ms', (x) => x <= 5),
    goal(`full p99.9 at ${settings.rate_fraction} of max rate (ms)`, rateBy('ztgate-full')?.p999_ms ?? null, '<= 5 ms', (x) => x <= 5),
    goal('ZTGATE_PROCESSES=2 vs 1', ratios.processes_2_vs_1_rps, '>= 1.8x (on 2 free cores)', (x) => x >= 1.8),
    goal('metrics and access log on vs off', ratios.observe_on_vs_off_rps, '>= 0.95x', (x) => x >= 0.95),
    goal('distinct-token JWT + rate limit req/CPU-s vs HAProxy', ratios.jwt_distinct_ztgate_vs_haproxy_req_per_cpu_s, '>= 1.0x', (x) => x >= 1),
    goal('distinct-token JWT + rate limit p99 vs HAProxy', ratios.jwt_distinct_ztgate_vs_haproxy_p99, '<= 1.0x', (x) => x <= 1),
  ];

  const result = {
    machine: machineInfo(loadavgAtStart),
    loadavgAtEnd: loadavgNow(),
    settings: {
      ...settings,
      load_generator: `${load.name}${load.version ? ` ${load.version}` : ''}`,
      order: 'round-robin, starting target rotated each round',
      aggregate: 'median over runs',
      cpu: 'utime+stime of the target process group from /proc, measured run only',
      versions,
    },
    runs,
    rate_runs: rateRuns,
    skipped,
    ratios,
    goals,
  };
  fs.mkdirSync(path.dirname(path.resolve(settings.out)), { recursive: true });
  fs.writeFileSync(settings.out, `${JSON.stringify(result, null, 2)}\n`);

  const w = process.stdout.write.bind(process.stdout);
  w(`\ncomparison: ${settings.runs} run(s) of ${settings.duration_s} s, ${settings.connections} connections, ${result.settings.load_generator}; medians` +
    `${settings.quick ? ' (--quick: a smoke run, not a measurement)' : ''}\n`);
  const nginx = rps('nginx-1w');
  const us = (v) => (v == null ? '-' : fmtNum(v, 1));
  w(`${formatTable(['target', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'req/CPU-s', 'user µs/req', 'sys µs/req', 'errors', 'vs nginx'], [
    ...runs.map((r) => [r.name, String(Math.round(r.rps)), fmtNum(r.p50_ms, 3), fmtNum(r.p99_ms, 3), fmtNum(r.p999_ms, 3),
      r.req_per_cpu_s == null ? '-' : String(r.req_per_cpu_s), us(r.user_us_per_req), us(r.sys_us_per_req), String(r.errors_total), nginx ? `${(r.rps / nginx).toFixed(2)}x` : '-']),
    ...skipped.map((s) => [s.name, 'skipped', '', '', '', '', '', '', '', '']),
  ])}\n`);
  if (rateRuns.length) {
    w(`\nfixed rate (${settings.rate_fraction} of each target's median maximum, ${load.name}${load.name === 'wrk' ? ', paced' : ', coordinated-omission corrected'}):\n`);
    w(`${formatTable(['target', 'asked/s', 'got req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors'],
      rateRuns.map((r) => [r.name, String(r.rate), String(Math.round(r.rps)), fmtNum(r.p50_ms, 3), fmtNum(r.p99_ms, 3), fmtNum(r.p999_ms, 3), String(r.errors_total)]))}\n`);
  }
  w(`\n${formatTable(['goal (issue 9)', 'measured', 'want', ''], goals.map((g) => [g.goal, g.value == null ? 'n/a' : String(g.value), g.want, g.met == null ? '' : g.met ? 'met' : 'MISSED']))}\n`);
  if (os.cpus().length < 4) w(`(scaling: this machine has ${os.cpus().length} CPUs, shared by the load generator, the upstream and the gateway: 2 processes cannot have 2 free cores here)\n`);
  w(`results: ${path.relative(process.cwd(), path.resolve(settings.out)) || settings.out}\n`);
}

await runScript(main);
