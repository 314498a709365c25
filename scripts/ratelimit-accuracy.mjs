#!/usr/bin/env node
// Accuracy of the distributed rate limiter (run `npm run build` first).
//
//   node scripts/ratelimit-accuracy.mjs [--limit 200] [--burst 20] [--seconds 10] [--demand 3]
//   node scripts/ratelimit-accuracy.mjs --memory [--keys 1000000]
//
// Runs one key at limit L/s for N seconds with the load spread evenly over
// gossip members on loopback (one child process each, real UDP gossip with an
// HMAC secret): 2 members, 3 members, and 3 members with one killed (SIGKILL)
// half way. Each member offers demand * L / members checks per second. Reports
// admitted / (L * seconds + burst); the goal is 0.95 to 1.05.
//
// --memory inserts distinct keys into a bucket table and reports the heap
// delta per key (run in a child with --expose-gc).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
function opt(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
}

const SECRET = 'ratelimit-accuracy-secret-0123456789';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- member ---
async function member() {
  const { Gossip } = await import('../dist/ratelimit/gossip.js');
  const { DistributedLimiter } = await import('../dist/ratelimit/limiter.js');
  const { makeLimit } = await import('../dist/ratelimit/gcra.js');
  const port = Number(process.env.RL_PORT);
  const seeds = process.env.RL_SEEDS.split(',').filter(Boolean);
  const gossip = new Gossip({ port, host: '127.0.0.1', seeds, secret: SECRET });
  await gossip.start();
  const limiter = new DistributedLimiter({ gossip });
  limiter.start();
  let policy = null;
  let counts = { admitted: 0, checks: 0 };
  process.on('message', async (m) => {
    if (m.cmd === 'members') {
      process.send({ members: gossip.owners().length });
    } else if (m.cmd === 'run') {
      policy = { id: `acc-${m.run}`, limits: [makeLimit('acc', m.limit, 1000, m.burst)] };
      limiter.register(policy);
      counts = { admitted: 0, checks: 0 };
      while (Date.now() < m.start) await sleep(1);
      const end = m.start + m.durationMs;
      let lastReport = 0;
      for (;;) {
        const now = Date.now();
        const due = Math.floor(((Math.min(now, end) - m.start) / 1000) * m.rate);
        for (; counts.checks < due; counts.checks++) if (limiter.check(m.key, policy).allowed) counts.admitted++;
        if (now - lastReport >= 50) {
          process.send({ counts, metrics: limiter.metrics() });
          lastReport = now;
        }
        if (now >= end) break;
        await sleep(2);
      }
      process.send({ counts, metrics: limiter.metrics(), final: true });
    } else if (m.cmd === 'exit') {
      limiter.stop();
      await gossip.stop();
      process.exit(0);
    }
  });
  process.send({ ready: true, id: gossip.id });
}

// ------------------------------------------------------------------ runs ---
async function scenario(name, members, { limit, burst, seconds, demand, killAtMs }) {
  const base = 20000 + Math.floor(Math.random() * 20000);
  const ports = Array.from({ length: members }, (_, i) => base + i);
  const children = ports.map((port, i) =>
    fork(self, ['--member'], {
      env: { ...process.env, RL_PORT: String(port), RL_SEEDS: ports.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`).join(',') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const last = children.map(() => ({ counts: { admitted: 0, checks: 0 }, metrics: null }));
  const ready = children.map((c) => new Promise((r) => c.on('message', (m) => m.ready && r())));
  children.forEach((c, i) => c.on('message', (m) => m.counts && (last[i] = m)));
  await Promise.all(ready);
  // Wait until every member sees every other.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const seen = await Promise.all(children.map((c) => new Promise((r) => {
      const h = (m) => m.members !== undefined && (c.off('message', h), r(m.members));
      c.on('message', h);
      c.send({ cmd: 'members' });
    })));
    if (seen.every((n) => n === members)) break;
    if (Date.now() > deadline) throw new Error(`${name}: members did not converge (${seen})`);
    await sleep(100);
  }
  const start = Date.now() + 300;
  const durationMs = seconds * 1000;
  const rate = (demand * limit) / members;
  children.forEach((c) => c.send({ cmd: 'run', run: name, key: `key-${name}`, start, durationMs, rate, limit, burst }));
  const finals = children.map((c) => new Promise((r) => c.on('message', (m) => m.final && r())));
  let killed = -1;
  if (killAtMs !== undefined) {
    await sleep(start - Date.now() + killAtMs);
    killed = members - 1;
    children[killed].kill('SIGKILL');
  }
  await Promise.all(finals.filter((_, i) => i !== killed));
  const admitted = last.reduce((a, l) => a + l.counts.admitted, 0);
  const expected = limit * seconds + burst;
  const ratio = admitted / expected;
  const per = last.map((l) => l.counts.admitted).join(' + ');
  const fallback = last.reduce((a, l) => a + (l.metrics?.fallbackDecisions ?? 0), 0);
  console.log(
    `${name.padEnd(28)} admitted ${String(admitted).padStart(6)} (${per}) of ${expected} expected: ${ratio.toFixed(3)}` +
      `  ${ratio >= 0.95 && ratio <= 1.05 ? 'OK' : 'OUT OF GOAL'}  [fallback decisions ${fallback}]`,
  );
  for (const [i, c] of children.entries()) if (i !== killed) c.send({ cmd: 'exit' });
  await Promise.all(children.map((c, i) => (i === killed || c.exitCode !== null ? null : new Promise((r) => c.on('exit', r)))));
  return ratio;
}

async function memory() {
  const { BucketTable, hashKey } = await import('../dist/ratelimit/table.js');
  const { makeLimit, evaluate, newDecision } = await import('../dist/ratelimit/gcra.js');
  const n = opt('keys', 1_000_000);
  const policy = { id: 'p', limits: [makeLimit('l', 10, 1000)] };
  const out = newDecision();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const table = new BucketTable({ shards: 64, maxEntries: 2 * n });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const key = `rl:abcdefghijkl\u001forders\u001f${(i >>> 24) & 255}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
    const b = table.getOrCreate(key, hashKey(key), policy);
    evaluate(b.tats, policy.limits, 1, performance.timeOrigin + performance.now(), true, out);
  }
  const ms = performance.now() - t0;
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  console.log(`${n} distinct keys (like "rl:<policy>\\x1forders\\x1f<IPv4>"): ${table.size} buckets, heap +${((after - before) / 1048576).toFixed(1)} MiB, ${Math.round((after - before) / n)} bytes per key (key string included); ${Math.round(n / (ms / 1000))} inserts/s`);
  const capped = new BucketTable({ shards: 64, maxEntries: 100_000 });
  for (let i = 0; i < n; i++) {
    const key = `ip:${i}`;
    const b = capped.getOrCreate(key, hashKey(key), policy);
    evaluate(b.tats, policy.limits, 1, performance.timeOrigin + performance.now(), true, out);
  }
  console.log(`with a cap of 100000: ${JSON.stringify(capped.stats())}`);
}

if (args.includes('--member')) {
  await member();
} else if (args.includes('--memory')) {
  if (typeof globalThis.gc !== 'function') {
    const c = fork(self, args, { execArgv: ['--expose-gc'], stdio: 'inherit' });
    c.on('exit', (code) => process.exit(code ?? 1));
  } else {
    await memory();
  }
} else {
  const o = { limit: opt('limit', 200), burst: opt('burst', 20), seconds: opt('seconds', 10), demand: opt('demand', 3) };
  console.log(`one key at ${o.limit}/s, burst ${o.burst}, ${o.seconds} s, offered ${o.demand}x the limit spread evenly over the members`);
  const r = [];
  r.push(await scenario('2 members', 2, o));
  r.push(await scenario('3 members', 3, o));
  r.push(await scenario('3 members, 1 killed mid-run', 3, { ...o, killAtMs: (o.seconds * 1000) / 2 }));
  process.exitCode = r.every((x) => x >= 0.95 && x <= 1.05) ? 0 : 1;
}
