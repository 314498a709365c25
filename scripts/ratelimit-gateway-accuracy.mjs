#!/usr/bin/env node
// Rate-limit accuracy through real gateway processes: one key at limit L for
// D seconds, load from many connections so the kernel spreads them over
// ZTGATE_PROCESSES gateway processes (SO_REUSEPORT), which share the limit over
// gossip. Reports admitted / (L * D + burst).
// --store: the limit is a quota kept in a redis-server started here (persistence off):
// the same rate written per minute (L*60/min), so the gateways decide it in the store.
// --quota N: a quota of N per day in the store (no refill to speak of during the run), demand 3N
// over the run; reports admitted / N.
//
//   npm run build && node scripts/ratelimit-gateway-accuracy.mjs [--limit 200] [--burst 20] [--seconds 10] [--processes 2] [--store]
//
// --case burst: a 100/day limit with a burst of 20 on new keys (one per run, three runs): 40
// requests at once on their own connections, 40 more a second later; reports admitted against
// the allowance (the burst), goal <= 1.1x.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { case: { type: 'string', default: 'window' }, limit: { type: 'string', default: '200' }, burst: { type: 'string', default: '20' }, seconds: { type: 'string', default: '10' }, processes: { type: 'string', default: '2' }, connections: { type: 'string', default: '32' }, store: { type: 'boolean', default: false }, 'timeout-ms': { type: 'string' }, quota: { type: 'string' } } });
const quota = values.quota ? Number(values.quota) : 0;
if (quota) values.store = true;
const L = quota ? quota / Number(values.seconds) : Number(values.limit), burst = quota || Number(values.burst), seconds = Number(values.seconds), processes = Number(values.processes), connections = Number(values.connections);
const root = fileURLToPath(new URL('..', import.meta.url));

const freePort = async () => {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
};

const upstream = createServer((_req, res) => res.writeHead(200, { 'content-length': '2' }).end('ok')).listen(0, '127.0.0.1');
await once(upstream, 'listening');
const port = await freePort();
const gossipPort = await freePort();
let redis = null;
let stateSection = '';
if (values.store) {
  const redisPort = await freePort();
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  process.on('exit', () => redis.kill('SIGKILL'));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => net.connect(redisPort, '127.0.0.1').on('connect', function () { this.destroy(); r(true); }).on('error', () => r(false)));
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  stateSection = `state: { redis: { url: "redis://127.0.0.1:${redisPort}"${values['timeout-ms'] ? `, timeoutMs: ${values['timeout-ms']}` : ''} } }\n`;
}
const rate = quota ? `${quota}/day` : values.store ? `${L * 60}/min` : `${L}/s`;
// A quota does not refill: the warm-up requests (no header) must not spend it.
const key = quota ? '[header:x-quota-key]' : '[route]';
const dir = mkdtempSync(join(tmpdir(), 'ztgate-rl-accuracy-'));
const config = join(dir, 'gateway.yaml');
writeFileSync(config, `listeners: [{ name: main, host: 127.0.0.1, port: ${port} }]
upstreams: [{ name: app, targets: [{ url: "http://127.0.0.1:${upstream.address().port}" }], pool: { maxConnections: 64 } }]
routes:
  - { name: daily, match: { path: /daily/* }, upstream: app, public: true, stages: [{ type: rate-limit, limits: [{ rate: 100/day, burst: 20, key: ['header:x-tenant'] }] }] }
  - { name: metered, match: { path: /* }, upstream: app, public: true, stages: [{ type: rate-limit, limits: [{ rate: ${rate}, burst: ${burst}, key: ${key} }] }] }
${stateSection}`);
const gw = spawn(process.execPath, [join(root, 'dist/cli.js'), '--config', config], {
  env: { ...process.env, ZTGATE_PROCESSES: String(processes), ZTGATE_LOG_LEVEL: 'error', ZTGATE_GOSSIP_PORT: String(gossipPort) },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const stop = () => gw.exitCode === null && gw.kill('SIGTERM');
process.on('exit', stop);

// Wait until every process answers, then let gossip converge.
for (let i = 0; i < 100; i++) {
  const ok = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok || r.status === 429, () => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}
await new Promise((r) => setTimeout(r, quota ? 3000 : 3000 + 1000 * (1 + burst / L))); // refill the bucket, members meet

if (values.case === 'burst') {
  // Each request on a connection of its own, so the kernel spreads them over the processes.
  const one = (tenant) => fetch(`http://127.0.0.1:${port}/daily/x`, { headers: { 'x-tenant': tenant, connection: 'close' } }).then(async (r) => (await r.arrayBuffer(), r.status), () => 0);
  const runs = [];
  for (let run = 0; run < 3; run++) {
    const tenant = `new-${Date.now()}-${run}`;
    const first = await Promise.all(Array.from({ length: 40 }, () => one(tenant)));
    await new Promise((r) => setTimeout(r, 1000));
    const second = await Promise.all(Array.from({ length: 40 }, () => one(tenant)));
    runs.push([...first, ...second].filter((s) => s === 200).length);
  }
  console.log(JSON.stringify({ case: 'burst', processes, limit: '100/day', burst: 20, requests: '40 + 40 a second later, per new key', admitted: runs, allowance: 20, worstRatio: Number((Math.max(...runs) / 20).toFixed(3)) }));
  stop();
  upstream.close();
  process.exit(0);
}

const counts = { 200: 0, 429: 0, other: 0 };
const deadline = Date.now() + seconds * 1000;
const demand = 3 * L; // requests per second offered in total
const perConn = demand / connections;
async function client() {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let buffered = '';
  let waiting = null;
  socket.on('data', (c) => {
    buffered += c.toString('latin1');
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
    if (buffered.length < end + 4 + length) return;
    const status = Number(buffered.slice(9, 12));
    buffered = buffered.slice(end + 4 + length);
    waiting?.(status);
  });
  while (Date.now() < deadline) {
    const started = Date.now();
    const status = await new Promise((resolve) => {
      waiting = resolve;
      socket.write(`GET /x HTTP/1.1\r\nHost: a\r\n${quota ? 'x-quota-key: load\r\n' : ''}\r\n`);
    });
    if (status === 200 || status === 429) counts[status]++;
    else counts.other++;
    const gap = 1000 / perConn - (Date.now() - started);
    if (gap > 0) await new Promise((r) => setTimeout(r, gap));
  }
  socket.destroy();
}
await Promise.all(Array.from({ length: connections }, client));
const expected = quota || L * seconds + burst;
console.log(JSON.stringify({ mode: quota ? 'store quota' : values.store ? 'store' : 'gossip', rate, processes, limit: L, burst, seconds, demandPerSecond: demand, admitted: counts[200], refused: counts[429], other: counts.other, expected, ratio: Number((counts[200] / expected).toFixed(3)) }));
stop();
upstream.close();
process.exit(0);
