#!/usr/bin/env node
// CPU time of scanBody, an older build against another (default this one), alternating in
// one process: the bench:pii 1 MB body, or the file BODY_FILE (ITER scans per round for
// small bodies). A shared machine disturbs CPU time less than wall time; read the ratio.
//
//   node scripts/pii-ab-cpu.mjs <old dist dir> [<new dist dir>] [rounds]
//   BODY_FILE=body.json ITER=2000 node scripts/pii-ab-cpu.mjs <old dist dir> dist 5
// (the dist dirs must resolve this project's node_modules: keep them inside the checkout)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
const argv = process.argv.slice(2);
const oldDir = pathToFileURL(resolve(argv[0])).href;
const newDir = pathToFileURL(resolve(argv[1] ?? 'dist')).href;
const rounds = Number(argv[2] ?? 5);
const A = await import(oldDir + '/protect/scan.js');
const B = await import(newDir + '/protect/scan.js');
const EA = (await import(oldDir + '/protect/detect.js')).ENTITIES;
const EB = (await import(newDir + '/protect/detect.js')).ENTITIES;
function body(bytes) {
  const items = []; let size = 2;
  for (let i = 0; size < bytes; i++) {
    const r = { id: 100000 + i, name: `Customer ${i}`, email: `user${i}@example.com`, phone: `+1 415 555 ${String(1000 + (i % 9000)).padStart(4, '0')}`, card: '4111 1111 1111 1111', iban: 'DE89 3704 0044 0532 0130 00', address: { street: `${i} Market Street`, city: 'San Francisco', zip: '94103' }, note: 'Order shipped on 2024-05-01, tracking 1Z999AA10123456784, total 129.95 USD', tags: ['retail', 'priority', 'north-america'] };
    const s = JSON.stringify(r); size += s.length + 1; items.push(r);
  }
  return JSON.stringify({ items });
}
const text = process.env.BODY_FILE ? readFileSync(process.env.BODY_FILE, 'utf8') : body(1024 * 1024);
const mb = Buffer.byteLength(text) / 1048576;
const ta = { text, kind: 'json', entities: [...EA], custom: [] };
const tb = { text, kind: 'json', entities: [...EB], custom: [] };
for (let w = 0; w < 3; w++) { A.scanBody(ta); B.scanBody(tb); }
const ITER = Number(process.env.ITER ?? 1);
const cpu = (fn) => { const c0 = process.cpuUsage(); for (let k = 0; k < ITER; k++) fn(); const c = process.cpuUsage(c0); return (c.user + c.system) / 1000 / ITER; };
const ra = [], rb = [];
for (let r = 0; r < rounds; r++) { ra.push(cpu(() => A.scanBody(ta))); rb.push(cpu(() => B.scanBody(tb))); }
const med = (x) => x.slice().sort((a, b) => a - b)[Math.floor(x.length / 2)];
console.log(JSON.stringify({ mb: +mb.toFixed(3), spansOld: A.scanBody(ta).spans.length, spansNew: B.scanBody(tb).spans.length, oldMs: ra.map((x) => +x.toFixed(4)), newMs: rb.map((x) => +x.toFixed(4)), oldMBperCpuS: +(mb / (med(ra) / 1000)).toFixed(1), newMBperCpuS: +(mb / (med(rb) / 1000)).toFixed(1), newOverOld: +(med(rb) / med(ra)).toFixed(3) }));
