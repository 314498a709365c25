// CPU time (user+sys of the one gateway process, from /proc) per request of builds side by side,
// rounds alternating their order. VARIANTS="base=/path/a/dist/cli.js,edge=dist/cli.js" N=20000 ROUNDS=4
// node native-bench/cpu-per-request-ab.mjs (autocannon, 10 connections, keep-alive, access log off).
import { createServer } from 'node:http';
import { spawn, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
const up = createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
up.keepAliveTimeout = 60000;
await new Promise(r => up.listen(0, '127.0.0.1', r));
const CONFIG = join(mkdtempSync(join(tmpdir(), 'ztgate-ab-')), 'gateway.yaml');
const TICK = Number(execSync('getconf CLK_TCK'));
const N = Number(process.env.N ?? 20000);
const variants = Object.fromEntries((process.env.VARIANTS ?? 'current=dist/cli.js').split(',').map((v) => v.split('=')));
const names = Object.keys(variants);
async function run(name) {
  const port = 19000 + Math.floor(Math.random() * 500);
  writeFileSync(CONFIG, `listeners: [{name: main, host: 127.0.0.1, port: ${port}}]
upstreams: [{name: app, targets: [{url: "http://127.0.0.1:${up.address().port}"}]}]
routes: [{name: all, match: {path: "/*"}, upstream: app, public: true}]
observe: { accessLog: { enabled: false } }
`);
  const gw = spawn('node', [variants[name], '--config', CONFIG], { env: { ...process.env, ZTGATE_PROCESSES: '1', ZTGATE_ADMIN_PORT: '0', ZTGATE_LOG_LEVEL: 'warn' } });
  let out = ''; gw.stdout.on('data', c => out += c); gw.stderr.on('data', c => out += c);
  for (let i = 0; i < 300; i++) { await new Promise(r => setTimeout(r, 100)); try { const r = await fetch(`http://127.0.0.1:${port}/w`); if (r.ok) break; } catch {} }
  const child = execSync(`pgrep -P ${gw.pid}`).toString().trim().split('\n')[0];
  const cpu = () => { const f = readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / TICK; };
  await autocannon({ url: `http://127.0.0.1:${port}/x`, connections: 10, amount: 2000 }); // warm
  const c0 = cpu();
  const r = await autocannon({ url: `http://127.0.0.1:${port}/x`, connections: 10, amount: N });
  const c1 = cpu();
  gw.kill('SIGTERM'); await new Promise(r => gw.on('exit', r));
  return { name, us: ((c1 - c0) / r.requests.total) * 1e6, rps: r.requests.average, non2xx: r.non2xx, errors: r.errors };
}
const rounds = Number(process.env.ROUNDS ?? 4);
const res = [];
for (let i = 0; i < rounds; i++) for (const v of (i % 2 ? [...names].reverse() : names)) { const r = await run(v); res.push(r); console.log(JSON.stringify(r)); }
for (const v of names) { const xs = res.filter(r => r.name === v).map(r => r.us).sort((a, b) => a - b); console.log(v, 'cpu µs/request median', xs[Math.floor(xs.length / 2)].toFixed(1), 'all', xs.map(x => x.toFixed(1)).join(' ')); }
console.log('load', readFileSync('/proc/loadavg', 'utf8').trim());
up.close(); process.exit(0);
