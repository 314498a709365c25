#!/usr/bin/env node
// Failover bench (issue 8): three targets behind one upstream, one killed (SIGKILL) mid-run.
//
//   npm run build && node scripts/bench-failover.mjs
//
// Env (all optional):
//   BENCH_DURATION     seconds of load                      (default 10; the kill is at half)
//   BENCH_CONNECTIONS  concurrent client connections        (default 32)
//   BENCH_BALANCER     round-robin | least-outstanding      (default round-robin)
//   BENCH_WARMUP       seconds of unrecorded load first     (default 3)
//
// Reports the requests that failed (non-2xx or socket errors) and the throughput
// before and after the kill (the second around the kill is left out of both).
// A benchmark, not a test: it asserts nothing about numbers.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DURATION = Number(process.env.BENCH_DURATION || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);
const BALANCER = process.env.BENCH_BALANCER || 'round-robin';
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

/** One target: a node:http server in its own process (so it can be killed like a crashed service). */
function startTarget(port, name) {
  const src = `require('http').createServer((q,r)=>{q.resume();q.on('end',()=>{const b='${name}';r.writeHead(200,{'content-type':'text/plain','content-length':b.length});r.end(b)})}).listen(${port},'127.0.0.1',()=>process.send('up'))`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', () => resolve(child)));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ztgate-failover-'));
const ports = [await freePort(), await freePort(), await freePort()];
const targets = await Promise.all(ports.map((p, i) => startTarget(p, `t${i}`)));
const gwPort = await freePort();
const config = `listeners:
  - { name: main, host: 127.0.0.1, port: ${gwPort} }
upstreams:
  - name: app
    targets:
${ports.map((p) => `      - { url: "http://127.0.0.1:${p}" }`).join('\n')}
    balancer: { algorithm: ${BALANCER} }
    healthCheck: { path: /health, intervalMs: 1000, timeoutMs: 500 }
    timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000 }
routes:
  - { name: all, match: { path: "/*" }, upstream: app, public: true }
`;
fs.writeFileSync(path.join(dir, 'gateway.yaml'), config);
const gw = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), '--config', path.join(dir, 'gateway.yaml')], {
  env: { ...process.env, ZTGATE_PROCESSES: '1', ZTGATE_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let log = '';
gw.stdout.on('data', (c) => (log += c));
for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${gwPort}/ready`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));

if (WARMUP > 0) await autocannon({ url: `http://127.0.0.1:${gwPort}/x`, connections: CONNECTIONS, duration: WARMUP });

// Per-second buckets of successes and failures, by the time each response arrived.
const started = Date.now();
const ok = [];
const bad = [];
const second = () => Math.floor((Date.now() - started) / 1000);
const killAt = DURATION / 2;
const instance = autocannon({ url: `http://127.0.0.1:${gwPort}/x`, connections: CONNECTIONS, duration: DURATION });
instance.on('response', (_client, status) => {
  const s = second();
  const arr = status >= 200 && status < 300 ? ok : bad;
  arr[s] = (arr[s] ?? 0) + 1;
});
instance.on('reqError', () => {
  const s = second();
  bad[s] = (bad[s] ?? 0) + 1;
});
setTimeout(() => targets[0].kill('SIGKILL'), killAt * 1000);
const result = await instance;

const sum = (arr, from, to) => arr.slice(from, to).reduce((a, b) => a + (b ?? 0), 0);
const before = sum(ok, 0, Math.floor(killAt)) / Math.floor(killAt);
const afterFrom = Math.floor(killAt) + 1;
const after = sum(ok, afterFrom, DURATION) / (DURATION - afterFrom);
const failed = sum(bad, 0, DURATION + 1);
console.log(
  JSON.stringify(
    {
      balancer: BALANCER,
      connections: CONNECTIONS,
      durationS: DURATION,
      killedAtS: killAt,
      requests: result.requests.total,
      failed,
      non2xx: result.non2xx,
      socketErrors: result.errors,
      rpsBeforeKill: Math.round(before),
      rpsAfterKill: Math.round(after),
      perSecondOk: ok.map((v) => v ?? 0),
      perSecondFailed: bad.map((v) => v ?? 0),
    },
    null,
    2,
  ),
);
gw.kill('SIGTERM');
await once(gw, 'exit');
for (const t of targets) t.kill('SIGKILL');
fs.rmSync(dir, { recursive: true, force: true });
