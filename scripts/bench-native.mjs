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
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distinctTokensLua, identityYaml, inspectLua, makeIdentityFixtures } from '../native-bench/identity-fixtures.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_DIR = path.join(ROOT, 'native-bench');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const RESULTS_FILE = path.join(RESULTS_DIR, 'latest.json');
const LUA_REPORT = path.join(BENCH_DIR, 'lua', 'report.lua');
const UPSTREAM_JS = path.join(BENCH_DIR, 'upstream.mjs');
const ZTGATE_CLI = process.env.BENCH_ZTGATE_CLI
  ? path.resolve(process.env.BENCH_ZTGATE_CLI)
  : path.join(ROOT, 'dist', 'cli.js');
const INSTALL_SH = path.join(ROOT, 'scripts', 'install-bench-tools.sh');
const ALL_TARGETS = ['direct', 'ztgate-1p', 'nginx-1w', 'haproxy-1t', 'ztgate-jwt-cached', 'ztgate-jwt-distinct', 'ztgate-apikey', 'ztgate-ratelimit', 'ztgate-inspect'];
/** Identity targets run on the ztgate-1p process, on routes with an identity stage (issue 3). */
const IDENTITY_TARGETS = ['ztgate-jwt-cached', 'ztgate-jwt-distinct', 'ztgate-apikey', 'ztgate-ratelimit', 'ztgate-inspect'];
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

// ---------------------------------------------------------------- helpers

function log(msg) {
  process.stderr.write(`[bench-native] ${msg}\n`);
}

function fail(msg, code = 1) {
  process.stderr.write(`[bench-native] error: ${msg}\n`);
  // Cleanup runs from the 'exit' handler.
  process.exit(code);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function findBin(name) {
  const dirs = (process.env.PATH || '').split(':').filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!dirs.includes(d)) dirs.push(d);
  }
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch { /* not here */ }
  }
  return null;
}

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const round = (x, digits = 3) => (x == null ? null : Number(x.toFixed(digits)));

/** Reserve `n` distinct free loopback ports (all held open together, then released). */
async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** One GET through a fresh connection; resolves to the status code or an Error. */
function probe(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', (e) => resolve(e));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e));
  });
}

// ---------------------------------------------------------------- processes

/** Every process we start, so that nothing is ever left behind. */
const children = new Set();

class Child {
  constructor(name, cmd, args, opts = {}) {
    this.name = name;
    this.cmd = cmd;
    this.args = args;
    this.stdoutBuf = '';
    this.stderrTail = '';
    this.exited = false;
    this.exitInfo = null;
    // Own process group, so that stop() also reaches anything it forks
    // (nginx workers, cluster workers) and a terminal ^C reaches only us.
    this.proc = spawn(cmd, args, {
      cwd: opts.cwd || ROOT,
      env: opts.env || process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.add(this);
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exited = true;
        this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve(this.exitInfo);
      });
      this.proc.on('error', (err) => {
        this.exited = true;
        this.exitInfo = `spawn error: ${err.message}`;
        this.stderrTail += `\n${err.message}`;
        resolve(this.exitInfo);
      });
    });
    // Ensure 'close' of the streams does not keep us alive.
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      this.stdoutBuf = (this.stdoutBuf + d).slice(-65536);
      if (opts.onStdout) opts.onStdout(d);
    });
    this.proc.stderr.on('data', (d) => {
      this.stderrTail = (this.stderrTail + d).slice(-8192);
    });
  }

  get pid() {
    return this.proc.pid;
  }

  tail(lines = 20) {
    const t = this.stderrTail.trimEnd().split('\n').slice(-lines).join('\n');
    return t || '(no stderr output)';
  }

  stdoutTail(lines = 20) {
    const t = this.stdoutBuf.trimEnd().split('\n').slice(-lines).join('\n');
    return t || '(no stdout output)';
  }

  signalGroup(sig) {
    if (!this.pid) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try { process.kill(this.pid, sig); } catch { /* gone */ }
    }
  }

  groupAlive() {
    if (!this.pid) return false;
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async stop(graceMs = 3000) {
    if (this.pid && (!this.exited || this.groupAlive())) {
      this.signalGroup('SIGTERM');
      const deadline = Date.now() + graceMs;
      while ((!this.exited || this.groupAlive()) && Date.now() < deadline) await sleep(50);
      if (!this.exited || this.groupAlive()) {
        log(`${this.name} did not stop within ${graceMs} ms, killing`);
        this.signalGroup('SIGKILL');
        await Promise.race([this.exitPromise, sleep(1000)]);
      }
    }
    children.delete(this);
  }
}

async function stopAll() {
  await Promise.all([...children].map((c) => c.stop()));
}

// Last resort on any exit path (errors, process.exit): SIGKILL what is left.
process.on('exit', () => {
  for (const c of children) c.signalGroup('SIGKILL');
  if (tmpDir && !process.env.BENCH_KEEP_TMP) {
    try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch { /* ignore */ }
  }
});
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig} received, stopping everything`);
    stopAll().finally(() => process.exit(130));
  });
}
process.on('uncaughtException', (err) => {
  process.stderr.write(`[bench-native] unexpected error: ${err && err.stack ? err.stack : err}\n`);
  stopAll().finally(() => process.exit(1));
});
process.on('unhandledRejection', (err) => {
  process.stderr.write(`[bench-native] unexpected error: ${err && err.stack ? err.stack : err}\n`);
  stopAll().finally(() => process.exit(1));
});

/** Poll GET / until it answers 200, the process exits, or the time is up. */
async function waitReady(child, port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exited) return { ok: false, reason: `process ended (${child.exitInfo}) before answering` };
    const r = await probe(port, 1000);
    if (r === 200) return { ok: true };
    last = r instanceof Error ? r.message : `HTTP ${r}`;
    await sleep(100);
  }
  return { ok: false, reason: `GET / did not answer 200 within ${timeoutMs / 1000} s (last: ${last})` };
}

// ---------------------------------------------------------------- tools

let tmpDir = null;

function toolVersion(bin, args, re) {
  try {
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 5000 });
    const out = `${r.stdout || ''}\n${r.stderr || ''}`;
    const m = out.match(re);
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

function detectTools() {
  const autocannonDir = path.join(ROOT, 'node_modules', 'autocannon');
  let autocannon = null;
  for (const f of ['autocannon.js', 'cli.js']) {
    const p = path.join(autocannonDir, f);
    if (fs.existsSync(p)) { autocannon = p; break; }
  }
  return {
    wrk: findBin('wrk'),
    nginx: findBin('nginx'),
    haproxy: findBin('haproxy'),
    autocannon,
  };
}

function ensureTools() {
  let tools = detectTools();
  const needNginx = wantedTargets.includes('nginx-1w') && !tools.nginx;
  const needHaproxy = wantedTargets.includes('haproxy-1t') && !tools.haproxy;
  if (!tools.wrk || needNginx || needHaproxy) {
    const missing = [!tools.wrk && 'wrk', needNginx && 'nginx', needHaproxy && 'haproxy'].filter(Boolean);
    log(`missing: ${missing.join(', ')}; running scripts/install-bench-tools.sh`);
    const r = spawnSync('bash', [INSTALL_SH], { stdio: ['ignore', 2, 2] });
    if (r.status !== 0) log(`install-bench-tools.sh exited with ${r.status ?? r.signal}; going on with what is present`);
    tools = detectTools();
  }
  return tools;
}

// ---------------------------------------------------------------- load generators

function wrkRunner(wrkBin) {
  const version = toolVersion(wrkBin, ['-v'], /wrk\s+([^\s]+)/);
  return {
    name: 'wrk',
    version,
    async run(port, durationS, target = {}) {
      const args = [
        '-t', String(settings.threads),
        '-c', String(settings.connections),
        '-d', `${durationS}s`,
        '--timeout', '5s',
        '-s', target.script || LUA_REPORT,
        ...(target.headers || []).flatMap((h) => ['-H', h]),
        `http://127.0.0.1:${port}${target.path || '/'}`,
      ];
      const c = new Child('wrk', wrkBin, args);
      currentLoad = c;
      await c.exitPromise;
      children.delete(c);
      currentLoad = null;
      const line = c.stdoutBuf.split('\n').reverse().find((l) => l.startsWith('{"report":"wrk"'));
      if (!line) throw new Error(`wrk produced no report (${c.exitInfo}): ${c.tail(5)}\n${c.stdoutBuf.slice(-500)}`);
      return JSON.parse(line);
    },
  };
}

function autocannonRunner(cliJs) {
  let version = null;
  try {
    version = JSON.parse(fs.readFileSync(path.join(path.dirname(cliJs), 'package.json'), 'utf8')).version;
  } catch { /* unknown */ }
  return {
    name: 'autocannon',
    version,
    async run(port, durationS) {
      const args = [cliJs, '-c', String(settings.connections), '-d', String(durationS), '-j'];
      if (settings.threads > 1) args.push('-w', String(settings.threads));
      args.push(`http://127.0.0.1:${port}/`);
      const c = new Child('autocannon', process.execPath, args);
      currentLoad = c;
      await c.exitPromise;
      children.delete(c);
      currentLoad = null;
      const text = c.stdoutBuf.trim();
      const start = text.indexOf('{');
      if (start < 0) throw new Error(`autocannon produced no JSON (${c.exitInfo}): ${c.tail(5)}`);
      const j = JSON.parse(text.slice(start));
      const lat = j.latency || {};
      const dur = Number(j.duration) || durationS;
      const total = j.requests && Number.isFinite(j.requests.total) ? j.requests.total : null;
      const errors = (j.errors || 0) + (j.timeouts || 0);
      return {
        report: 'autocannon',
        requests: total,
        duration_s: dur,
        rps: total != null ? total / dur : j.requests && j.requests.average,
        bytes: j.throughput ? j.throughput.total : null,
        mean_ms: lat.average ?? null,
        stdev_ms: lat.stddev ?? null,
        max_ms: lat.max ?? null,
        p50_ms: lat.p50 ?? null,
        p90_ms: lat.p90 ?? null,
        p99_ms: lat.p99 ?? null,
        p999_ms: lat.p99_9 ?? lat.p999 ?? null,
        errors_connect: null,
        errors_read: null,
        errors_write: null,
        errors_timeout: j.timeouts ?? null,
        non2xx: j.non2xx ?? null,
        errors_total: errors + (j.non2xx || 0),
      };
    },
  };
}

let currentLoad = null;

// ---------------------------------------------------------------- targets

async function startUpstream(port) {
  let readyResolve;
  const readySeen = new Promise((r) => { readyResolve = r; });
  const c = new Child('upstream', process.execPath, [UPSTREAM_JS, String(port)], {
    onStdout: () => { if (/(^|\n)ready(\n|$)/.test(c.stdoutBuf)) readyResolve(); },
  });
  const outcome = await Promise.race([
    readySeen.then(() => 'ready'),
    c.exitPromise.then((info) => `exited (${info})`),
    sleep(10000).then(() => 'timeout'),
  ]);
  if (outcome !== 'ready') {
    fail(`upstream did not start: ${outcome}\n${c.tail()}`);
  }
  const r = await waitReady(c, port, 5000);
  if (!r.ok) fail(`upstream not answering: ${r.reason}\n${c.tail()}`);
  return c;
}

async function startZtgate(port, upstreamPort, identity) {
  if (!fs.existsSync(ZTGATE_CLI)) {
    return { ok: false, reason: `${path.relative(ROOT, ZTGATE_CLI)} is absent (run \`npm run build\` first); skipping ztgate` };
  }
  const cfg = path.join(tmpDir, 'ztgate.yaml');
  fs.writeFileSync(cfg, [
    'listeners:',
    '  - name: bench',
    '    host: 127.0.0.1',
    `    port: ${port}`,
    '    segment: external',
    'upstreams:',
    '  - name: origin',
    '    targets:',
    `      - url: http://127.0.0.1:${upstreamPort}`,
    '    pool:',
    '      maxConnections: 128',
    'routes:',
    '  - name: all',
    '    match:',
    '      path: /*',
    '    upstream: origin',
    '    public: true',
    '',
  ].join('\n'));
  if (identity) {
    // Identity routes beside the bare one, on the same process, so they compare in one run.
    const [section, routes] = identityYaml(identity).split('extraRoutes:\n');
    fs.appendFileSync(cfg, `${routes}\n${section}\n`);
  }
  const env = { ...process.env, ZTGATE_PROCESSES: '1', ZTGATE_LOG_LEVEL: 'warn' };
  const c = new Child('ztgate-1p', process.execPath, [ZTGATE_CLI, '--config', cfg], { cwd: ROOT, env });
  const r = await waitReady(c, port, 15000);
  if (!r.ok) {
    await c.stop();
    return {
      ok: false,
      reason: `ztgate failed: ${r.reason}\n--- ztgate stderr (tail) ---\n${c.tail()}` +
        `\n--- ztgate stdout (tail) ---\n${c.stdoutTail(10)}`,
    };
  }
  return { ok: true, child: c, version: readVersion(path.join(ROOT, 'package.json')) };
}

function readVersion(pkgJson) {
  try { return JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version; } catch { return null; }
}

async function startNginx(bin, port, upstreamPort) {
  const conf = path.join(tmpDir, 'nginx.conf');
  const t = (p) => path.join(tmpDir, p);
  fs.mkdirSync(t('nginx-temp'), { recursive: true });
  fs.writeFileSync(conf, `# generated by scripts/bench-native.mjs
worker_processes 1;
daemon off;
master_process on;
pid ${t('nginx.pid')};
error_log ${t('nginx-error.log')} warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    client_body_temp_path ${t('nginx-temp/body')};
    proxy_temp_path ${t('nginx-temp/proxy')};
    fastcgi_temp_path ${t('nginx-temp/fastcgi')};
    uwsgi_temp_path ${t('nginx-temp/uwsgi')};
    scgi_temp_path ${t('nginx-temp/scgi')};

    upstream origin {
        server 127.0.0.1:${upstreamPort};
        keepalive 128;
        keepalive_requests 1000000;
    }

    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`);
  const test = spawnSync(bin, ['-t', '-q', '-e', t('nginx-error.log'), '-p', tmpDir, '-c', conf], { encoding: 'utf8' });
  if (test.status !== 0) return { ok: false, reason: `nginx -t failed:\n${(test.stderr || test.stdout).trim()}` };
  const c = new Child('nginx-1w', bin, ['-e', t('nginx-error.log'), '-p', tmpDir, '-c', conf]);
  const r = await waitReady(c, port, 15000);
  if (!r.ok) {
    await c.stop();
    let errLog = '';
    try { errLog = fs.readFileSync(t('nginx-error.log'), 'utf8').trim().split('\n').slice(-10).join('\n'); } catch { /* none */ }
    return { ok: false, reason: `nginx failed: ${r.reason}\n${c.tail()}\n${errLog}` };
  }
  return { ok: true, child: c, version: toolVersion(bin, ['-v'], /nginx\/([^\s]+)/) };
}

async function startHaproxy(bin, port, upstreamPort) {
  const conf = path.join(tmpDir, 'haproxy.cfg');
  fs.writeFileSync(conf, `# generated by scripts/bench-native.mjs
global
    nbthread 1
    maxconn 4096
    # no "log" lines: logging is off

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 30s

frontend bench
    bind 127.0.0.1:${port}
    default_backend origin

backend origin
    server origin1 127.0.0.1:${upstreamPort} pool-max-conn 128
`);
  const check = spawnSync(bin, ['-c', '-q', '-f', conf], { encoding: 'utf8' });
  if (check.status !== 0) return { ok: false, reason: `haproxy -c failed:\n${(check.stderr || check.stdout).trim()}` };
  const c = new Child('haproxy-1t', bin, ['-db', '-f', conf]);
  const r = await waitReady(c, port, 15000);
  if (!r.ok) {
    await c.stop();
    return { ok: false, reason: `haproxy failed: ${r.reason}\n${c.tail()}` };
  }
  return { ok: true, child: c, version: toolVersion(bin, ['-v'], /version\s+([^\s,]+)/i) };
}

// ---------------------------------------------------------------- report

function fmtNum(x, digits) {
  return x == null ? '-' : x.toFixed(digits);
}

function printTable(rows, skipped) {
  const nginx = rows.find((r) => r.name === 'nginx-1w');
  const header = ['target', 'rps', 'p50 ms', 'p99 ms', 'p99.9 ms', 'rps vs nginx'];
  const lines = rows.map((r) => [
    r.name,
    r.rps == null ? '-' : Math.round(r.rps).toString(),
    fmtNum(r.p50_ms, 3),
    fmtNum(r.p99_ms, 3),
    fmtNum(r.p999_ms, 3),
    nginx && nginx.rps && r.rps != null ? `${(r.rps / nginx.rps).toFixed(2)}x` : '-',
  ]);
  for (const s of skipped) lines.push([s.name, 'skipped', '', '', '', '']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)];
  process.stdout.write(`${out.join('\n')}\n`);
}

function ratio(a, b) {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return round(a / b, 3);
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0] ? cpus[0].model.trim() : null,
    memGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    // 1/5/15-min load averages when the bench started: anything well above 0
    // means other work shared the CPUs and the numbers are noisier.
    loadavgAtStart: startLoadavg,
  };
}

// ---------------------------------------------------------------- main

let startLoadavg = null;

async function main() {
  startLoadavg = os.loadavg().map((x) => round(x, 2));
  if (startLoadavg[0] > os.cpus().length / 2) {
    log(`note: the machine is already busy (load average ${startLoadavg[0]} on ${os.cpus().length} CPUs); expect noisy numbers`);
  }
  const tools = ensureTools();
  let load;
  if (tools.wrk) {
    load = wrkRunner(tools.wrk);
  } else if (tools.autocannon) {
    log('wrk is still missing after install-bench-tools.sh; falling back to autocannon (node_modules/autocannon). ' +
      'Numbers are not comparable with wrk runs: autocannon is a Node process and saturates earlier.');
    load = autocannonRunner(tools.autocannon);
  } else {
    fail('no load generator: wrk is missing (scripts/install-bench-tools.sh could not install it) ' +
      'and node_modules/autocannon is not installed. Install wrk (apt-get install wrk) and retry.');
  }

  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ztgate-bench-native-'));
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

  if (wantedTargets.includes('direct')) targets.push({ name: 'direct', port: upPort, child: upstream });

  const wantIdentity = wantedTargets.some((t) => IDENTITY_TARGETS.includes(t));
  if (wantedTargets.includes('ztgate-1p') || wantIdentity) {
    let identity = null;
    if (wantIdentity) {
      log(`identity targets: signing ${DISTINCT_TOKENS} distinct ES256 tokens (BENCH_DISTINCT_TOKENS)...`);
      identity = makeIdentityFixtures(tmpDir, DISTINCT_TOKENS);
    }
    const r = await startZtgate(ztPort, upPort, identity);
    if (r.ok && identity) {
      const add = (name, extra) => wantedTargets.includes(name) && targets.push({ name, port: ztPort, child: r.child, ...extra });
      add('ztgate-jwt-cached', { path: '/jwt/x', headers: [`Authorization: Bearer ${identity.repeatedToken}`] });
      add('ztgate-jwt-distinct', { path: '/jwt/x', script: distinctTokensLua(tmpDir, identity.tokensFile, LUA_REPORT, '/jwt/x') });
      add('ztgate-apikey', { path: '/key/x', headers: [`x-api-key: ${identity.apiKey}`] });
      add('ztgate-ratelimit', { path: '/rl/x' });
      add('ztgate-inspect', { path: '/inspect/orders?q=blue+widget&page=2', script: inspectLua(tmpDir, LUA_REPORT, '/inspect/orders?q=blue+widget&page=2').file });
    }
    if (!r.ok) skip('ztgate-1p', r.reason);
    else {
      versions.ztgate = r.version;
      log(`ztgate-1p ready on 127.0.0.1:${ztPort}`);
      if (wantedTargets.includes('ztgate-1p')) targets.push({ name: 'ztgate-1p', port: ztPort, child: r.child });
    }
  }

  if (wantedTargets.includes('nginx-1w')) {
    if (!tools.nginx) skip('nginx-1w', 'nginx is not installed (scripts/install-bench-tools.sh could not install it); skipping');
    else {
      const r = await startNginx(tools.nginx, ngPort, upPort);
      if (r.ok) {
        targets.push({ name: 'nginx-1w', port: ngPort, child: r.child });
        versions.nginx = r.version;
        log(`nginx-1w ready on 127.0.0.1:${ngPort}`);
      } else skip('nginx-1w', r.reason);
    }
  }

  if (wantedTargets.includes('haproxy-1t')) {
    if (!tools.haproxy) skip('haproxy-1t', 'haproxy is not installed (scripts/install-bench-tools.sh could not install it); skipping');
    else {
      const r = await startHaproxy(tools.haproxy, haPort, upPort);
      if (r.ok) {
        targets.push({ name: 'haproxy-1t', port: haPort, child: r.child });
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
  for (let roundNo = 0; roundNo < settings.runs; roundNo++) {
    // Round-robin, rotating the starting target each round so no target is
    // always measured first (or right after the same neighbour).
    const order = targets.map((_, i) => targets[(i + roundNo) % targets.length]);
    for (const t of order) {
      if (interrupted) return;
      if (dead.has(t.name)) continue;
      if (t.child.exited) {
        dead.add(t.name);
        log(`${t.name} has stopped (${t.child.exitInfo}); no more runs for it\n${t.child.tail(10)}`);
        continue;
      }
      try {
        if (settings.warmup_s > 0) await load.run(t.port, settings.warmup_s, t);
        if (interrupted) return;
        const s = await load.run(t.port, settings.duration_s, t);
        s.round = roundNo + 1;
        samples.get(t.name).push(s);
        const errs = s.errors_total ? `, ${s.errors_total} errors (non2xx ${s.non2xx})` : '';
        log(`round ${roundNo + 1}/${settings.runs} ${t.name.padEnd(10)} ${Math.round(s.rps)} rps, ` +
          `p50 ${fmtNum(s.p50_ms, 3)} ms, p99 ${fmtNum(s.p99_ms, 3)} ms, p99.9 ${fmtNum(s.p999_ms, 3)} ms${errs}`);
      } catch (err) {
        if (interrupted) return;
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
    machine: machineInfo(),
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

  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const tmpFile = `${RESULTS_FILE}.tmp`;
  fs.writeFileSync(tmpFile, `${JSON.stringify(result, null, 2)}\n`);
  fs.renameSync(tmpFile, RESULTS_FILE);

  process.stdout.write(`\nnative bench: ${settings.runs} run(s) of ${settings.duration_s} s, ${settings.connections} connections, ` +
    `${settings.threads} thread(s), ${result.settings.load_generator}; medians:\n`);
  printTable(runs, skipped);
  const r = (x) => (x == null ? 'n/a' : `${x}x`);
  process.stdout.write(`ratios: ztgate/nginx rps ${r(ratios.ztgate_vs_nginx_rps)}, ztgate/nginx p99 ${r(ratios.ztgate_vs_nginx_p99)}, ` +
    `ztgate/haproxy rps ${r(ratios.ztgate_vs_haproxy_rps)}, ztgate/direct rps ${r(ratios.ztgate_vs_direct_rps)}\n`);
  process.stdout.write(`results: ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE}\n`);
}

try {
  await main();
} finally {
  if (currentLoad) currentLoad.signalGroup('SIGKILL');
  await stopAll();
}
if (interrupted) process.exit(130);
