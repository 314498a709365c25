#!/usr/bin/env node
// PII scanning throughput per worker thread on a 1 MB JSON body. Needs `npm run build`.
//
//   node scripts/pii-throughput.mjs [--mb 1] [--rounds 7] [--json]
//
// Three numbers, each the median of the rounds: the scan alone on this thread (what
// one pool worker does per task), the same through a one-thread piscina pool with the
// gateway's worker file (structured-clone copy of the text and of the spans included),
// and the masking pass the main thread runs on the spans the worker found. The inline
// scan is also given per CPU-second (process CPU time, one busy thread), which a busy
// shared machine disturbs less than wall time.
import { Piscina } from 'piscina';
import { scanBody } from '../dist/protect/scan.js';
import { applyToJson, mask } from '../dist/protect/mask.js';
import { ENTITIES } from '../dist/protect/detect.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MB = opt('mb', 1);
const ROUNDS = opt('rounds', 7);

/** Realistic API records: most values are not PII, some are. */
function body(bytes) {
  const items = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const r = {
      id: 100000 + i,
      name: `Customer ${i}`,
      email: `user${i}@example.com`,
      phone: `+1 415 555 ${String(1000 + (i % 9000)).padStart(4, '0')}`,
      card: '4111 1111 1111 1111',
      iban: 'DE89 3704 0044 0532 0130 00',
      address: { street: `${i} Market Street`, city: 'San Francisco', zip: '94103' },
      note: 'Order shipped on 2024-05-01, tracking 1Z999AA10123456784, total 129.95 USD',
      tags: ['retail', 'priority', 'north-america'],
    };
    const s = JSON.stringify(r);
    size += s.length + 1;
    items.push(r);
  }
  return JSON.stringify({ items });
}

const text = body(MB * 1024 * 1024);
const task = { text, kind: 'json', entities: [...ENTITIES], custom: [] };
const mbytes = Buffer.byteLength(text) / (1024 * 1024);
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeRounds(fn) {
  await fn(); // warm-up
  const ms = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const inline = await timeRounds(() => scanBody(task));
// CPU time of the same scans: on a shared, loaded machine wall time also counts waiting for a core.
const cpu0 = process.cpuUsage();
for (let i = 0; i < ROUNDS; i++) scanBody(task);
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000 / ROUNDS;
const spans = scanBody(task).spans;
const pool = new Piscina({ filename: new URL('../dist/protect/worker.js', import.meta.url).href, minThreads: 1, maxThreads: 1 });
const pooled = await timeRounds(() => pool.run(task));
await pool.destroy();
const applied = await timeRounds(() => applyToJson(text, spans, (v) => mask(v, 4)));

const result = {
  bodyMB: Number(mbytes.toFixed(3)),
  spans: spans.length,
  rounds: ROUNDS,
  scanMs: Number(inline.toFixed(1)),
  scanMBps: Number((mbytes / (inline / 1000)).toFixed(1)),
  scanCpuMs: Number(cpuMs.toFixed(1)),
  scanMBpsPerCpuSecond: Number((mbytes / (cpuMs / 1000)).toFixed(1)),
  poolTaskMs: Number(pooled.toFixed(1)),
  poolMBpsPerWorker: Number((mbytes / (pooled / 1000)).toFixed(1)),
  maskMs: Number(applied.toFixed(1)),
  node: process.version,
};
if (args.includes('--json')) console.log(JSON.stringify(result));
else {
  console.log(`body ${result.bodyMB} MB JSON, ${result.spans} PII values, median of ${ROUNDS} rounds`);
  console.log(`scan on one thread:          ${result.scanMs} ms  = ${result.scanMBps} MB/s`);
  console.log(`per CPU-second of that thread: ${result.scanCpuMs} ms CPU = ${result.scanMBpsPerCpuSecond} MB/s`);
  console.log(`through a 1-thread pool:     ${result.poolTaskMs} ms  = ${result.poolMBpsPerWorker} MB/s per worker`);
  console.log(`masking pass (main thread):  ${result.maskMs} ms`);
}
