#!/usr/bin/env node
// Bundled load scripts: `npm run load -- <scenario> [options]` (see args.mjs
// or --help). Starts its own upstream and ztgate (dist/cli.js on a generated
// config with one route per scenario) unless --url names a running gateway,
// checks that the scenario's request succeeds, then measures maximum
// throughput or latency at a fixed rate (wrk, paced; autocannon without wrk).
// A benchmark, not a test: it asserts nothing about timings. Exit codes:
// 0 measured, 1 could not measure, 2 bad command line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { autocannonRunner, checkOnce, wrkRunner } from '../lib/loadgen.mjs';
import { groupCpuSeconds } from '../lib/cpu.mjs';
import { ROOT, fail, findBin, freePorts, installCleanup, log, setTag, setTmpDir, state } from '../lib/procs.mjs';
import { SCENARIOS, identityFixtures, ztgateConfig } from '../lib/scenarios.mjs';
import { startUpstream, startZtgate } from '../lib/servers.mjs';
import { loadavgNow, machineInfo } from '../lib/stats.mjs';
import { USAGE, UsageError, parse } from './args.mjs';
import { buildResult, formatResult } from './report.mjs';
import { TokenRotation, runRotated } from '../lib/token-rotation.mjs';
import { runScript } from '../lib/bench-run.mjs';

setTag('load');

let opts;
try {
  opts = parse(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`[load] error: ${err.message}\n(npm run load -- --help lists scenarios and options)\n`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

installCleanup();

function pickTool() {
  const wrk = findBin('wrk');
  if (opts.tool === 'wrk' && !wrk) fail('--tool wrk: wrk is not installed (scripts/install-bench-tools.sh installs it)', 2);
  if (opts.tool === 'autocannon' || !wrk) return autocannonRunner();
  return wrkRunner(wrk, { tmpDir, threads: opts.threads });
}

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ztgate-load-'));
setTmpDir(tmpDir);

async function main() {
  const loadavgAtStart = loadavgNow();
  const scenario = SCENARIOS[opts.scenario];
  const tool = pickTool();
  let baseUrl = opts.url;
  let gateway = null;
  let fx;
  if (baseUrl) {
    fx = { repeatedToken: opts.token, tokensFile: opts.tokensFile };
  } else {
    const [upPort, gwPort, gossipPort] = await freePorts(3);
    if (scenario.needsDistinct) log(`signing ${opts.distinct} distinct ES256 tokens (--distinct)...`);
    fx = identityFixtures(tmpDir, scenario.needsDistinct ? opts.distinct : 0);
    await startUpstream(upPort);
    const r = await startZtgate({
      tmpDir,
      port: gwPort,
      config: ztgateConfig({ port: gwPort, upstreamPort: upPort, fx }),
      processes: opts.processes,
      // Its own gossip ports (base + process index), so that another gateway on the machine is not joined.
      env: { ZTGATE_GOSSIP_PORT: String(gossipPort), ZTGATE_LOG_LEVEL: opts.logLevel },
      nodeArgs: profileArgs(),
    });
    if (!r.ok) fail(r.reason);
    gateway = r.child;
    baseUrl = `http://127.0.0.1:${gwPort}`;
    log(`ztgate (ZTGATE_PROCESSES=${opts.processes}) on ${baseUrl}, upstream on 127.0.0.1:${upPort}`);
  }
  const base = scenario.request(fx);
  const request = { ...base, headers: { ...(base.headers || {}), ...opts.headers } };
  if (request.headers.authorization === 'Bearer null' || request.headers.authorization === 'Bearer undefined') delete request.headers.authorization;
  const check = await checkOnce(baseUrl, request);
  if (!check.ok) fail(check.reason);

  const runOpts = { connections: opts.connections, durationS: opts.duration, rate: opts.rate };
  log(`${opts.scenario}: ${opts.rate ? `fixed rate ${opts.rate}/s` : 'maximum throughput'} with ${tool.name}, ` +
    `${opts.connections} connections, ${opts.warmup} s warmup + ${opts.duration} s`);
  // Distinct tokens: the measured run starts after the warmup's, not again at the first line.
  const rotation = typeof request.tokens === 'string' ? new TokenRotation(request.tokens, tmpDir) : null;
  const run = (o) => runRotated(tool, baseUrl, request, o, rotation, 'load');
  if (opts.warmup > 0) await run({ ...runOpts, durationS: opts.warmup });
  if (state.interrupted) return;
  const cpuBefore = gateway ? groupCpuSeconds(gateway.pid) : null;
  const sample = await run(runOpts);
  const cpuAfter = gateway ? groupCpuSeconds(gateway.pid) : null;
  if (gateway && gateway.exited) fail(`the gateway stopped during the run (${gateway.exitInfo}):\n${gateway.tail()}`);
  sample.request = request;

  const result = buildResult({
    opts,
    scenario,
    target: { url: baseUrl, started: Boolean(gateway), processes: gateway ? opts.processes : null },
    tool,
    sample,
    cpuSeconds: cpuBefore != null && cpuAfter != null ? cpuAfter - cpuBefore : null,
    machine: machineInfo(loadavgAtStart),
  });
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const out = opts.out ?? path.join(ROOT, 'native-bench', 'results', `load-${opts.scenario}.json`);
  if (out !== '-') {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, text);
  }
  process.stdout.write(opts.json ? text : formatResult(result));
  if (out !== '-' && !opts.json) process.stdout.write(`results: ${path.relative(process.cwd(), path.resolve(out)) || out}\n`);
  if (result.result.errors.total > 0) log(`warning: ${result.result.errors.total} of ${result.result.requests} requests failed or were not 2xx`);
  if (result.result.requests === 0 || result.result.errors.total >= result.result.requests) process.exitCode = 1;
}

/** --profile: every gateway process (supervisor and gateways) writes a .cpuprofile when it exits. */
function profileArgs() {
  if (!opts.profile) return [];
  fs.mkdirSync(opts.profile, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.profile)}`];
}

await runScript(main);
if (opts.profile && !state.interrupted) {
  const { summarizeDir } = await import('../profile-summary.mjs');
  process.stdout.write(summarizeDir(opts.profile));
}
