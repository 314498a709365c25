// A/B CPU per scanRequest call of two builds of src/inspect, alternating rounds:
//   node scripts/lib/inspect-cpu-ab.mjs <baseline dist/inspect dir> [<candidate dist/inspect dir>]
// A baseline dir: `git archive <commit> src/inspect | tar -x -C /tmp/base`, a package.json with
// type module there, then tsc --module nodenext --outDir dist src/inspect/request-scan.ts.
import { ORDER_BODY } from './scenarios.mjs';
import { readFileSync } from 'node:fs';
const base = process.argv[2];
const cand = process.argv[3] ?? new URL('../../dist/inspect', import.meta.url).pathname;
if (!base) throw new Error('usage: inspect-cpu-ab.mjs <baseline dist/inspect dir> [<candidate dir>]');
const A = await import(`${base}/request-scan.js`);
const B = await import(`${cand}/request-scan.js`);
const order = { level: 2, path: '/inspect/orders', query: 'q=blue+widget&page=2', headers: [['user-agent', 'wrk'], ['x-client-version', '3.4.1']], cookies: [], body: ORDER_BODY, bodyKind: 'json' };
const tickets = readFileSync(new URL('../../test/fixtures/benign-api/gen-tickets.jsonl', import.meta.url), 'utf8').trim().split('\n').map((body) => ({ ...order, body }));
function run(mod, inputs, n) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) mod.scanRequest(inputs[i % inputs.length]);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}
for (const [name, inputs, n] of [['order 1.6KB JSON (bench inspect scenario)', [order], 4000], ['gen-tickets.jsonl bodies', tickets, 4000]]) {
  run(A, inputs, 500); run(B, inputs, 500);
  const a = [], b = [];
  for (let r = 0; r < 6; r++) { a.push(run(A, inputs, n)); b.push(run(B, inputs, n)); }
  const med = (x) => x.slice().sort((p, q) => p - q)[Math.floor(x.length / 2)];
  console.log(`${name}: baseline ${med(a).toFixed(1)} us CPU/req, branch ${med(b).toFixed(1)} us CPU/req, ratio ${(med(b) / med(a)).toFixed(2)} (rounds A ${a.map((x) => x.toFixed(0)).join(' ')} | B ${b.map((x) => x.toFixed(0)).join(' ')})`);
}
