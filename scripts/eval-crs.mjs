#!/usr/bin/env node
// Replays the OWASP CRS regression suite (../shared/corpora/crs/tests, go-ftw
// format) through a real gateway process: one gateway, one listener and one
// catch-all route per level 1-4, `inspect` in block mode, a local upstream.
// Each test's request is written on a raw socket as go-ftw builds it.
//
//   node scripts/eval-crs.mjs [--json] [--half dev|held-out|all] [--misses] [--family 932] [--level N]
//
// Scoring follows CRS paranoia levels: an attack test (one that expects a rule to
// fire) of a rule at PL p counts at level L when p <= L. Tests that expect rules
// not to fire are counted at every level (a request CRS passes at PL4 must pass
// here at every level). A test whose request gets no answer from the gateway's
// HTTP front end, or a bare front-end refusal, is skipped with that reason.
// `--misses` lists the misses and flagged tests of the development half only
// (the held-out half is for measuring, not for reading).
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadTests, ruleLevels, findCrs } from './lib/crs-tests.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const LEVELS = [1, 2, 3, 4];

function parseArgs(argv) {
  const o = { json: false, half: 'both', misses: false, family: null, level: null, concurrency: 8, crs: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--half') o.half = argv[++i];
    else if (a === '--misses') o.misses = true;
    else if (a === '--family') o.family = argv[++i];
    else if (a === '--level') o.level = Number(argv[++i]);
    else if (a === '--concurrency') o.concurrency = Number(argv[++i]);
    else if (a === '--crs') o.crs = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitPort(port, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} not listening after ${ms} ms`);
}

/** Sends raw bytes, reads one response: `{ status, upstream, code }`, or `{ error }` when none came. */
function send(port, bytes, timeoutMs = 5000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let len = 0;
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const parse = (final) => {
      const buf = Buffer.concat(chunks, len);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return final ? finish(len ? { error: 'answer without a complete header block' } : { error: 'connection closed without an answer' }) : undefined;
      const head = buf.subarray(0, end).toString('latin1');
      const m = /^HTTP\/\d\.\d (\d{3})/.exec(head);
      if (!m) return finish({ error: 'answer is not HTTP' });
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const bodyLen = buf.length - end - 4;
      if (!final && cl && bodyLen < Number(cl[1])) return undefined;
      if (!final && !cl && !/\r\ntransfer-encoding/i.test(head) && bodyLen === 0) return undefined;
      const body = buf.subarray(end + 4).toString('utf8');
      const code = /"code"\s*:\s*"(ZTG_[A-Z_]+)"/.exec(body);
      finish({ status: Number(m[1]), upstream: /\r\nx-crs-upstream:/i.test(head), code: code ? code[1] : null });
    };
    const timer = setTimeout(() => parse(true) ?? finish({ error: 'timeout' }), timeoutMs);
    sock.on('data', (c) => {
      chunks.push(c);
      len += c.length;
      parse(false);
    });
    sock.on('end', () => parse(true));
    sock.on('close', () => parse(true));
    sock.on('error', () => parse(true));
    sock.on('connect', () => sock.write(bytes)); // no half-close: uWS drops a connection at its FIN
  });
}

/** verdict of one answer: 'blocked' (inspect), 'refused' (another coded gateway error), 'passed', or a skip reason. */
function verdict(r) {
  if (r.error) return { v: 'skip', reason: `front end: ${r.error}` };
  if (r.upstream) return { v: 'passed' };
  if (r.code === 'ZTG_THREAT_DETECTED') return { v: 'blocked' };
  if (r.code) return { v: 'refused', reason: r.code };
  return { v: 'skip', reason: `front end answered ${r.status} itself` };
}

async function startUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'x-crs-upstream': '1', 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  server.on('clientError', (_e, s) => s.destroy());
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return server;
}

async function startGateway(upstreamPort) {
  const ports = [];
  for (const _ of LEVELS) ports.push(await freePort());
  const config = {
    listeners: LEVELS.map((l, i) => ({ name: `l${l}`, host: '127.0.0.1', port: ports[i] })),
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstreamPort}` }] }],
    routes: LEVELS.map((l) => ({ name: `level${l}`, listeners: [`l${l}`], match: { path: '/*' }, upstream: 'app', public: true, stages: [{ type: 'inspect', level: l, mode: 'block' }] })),
  };
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-crs-'));
  const cfg = join(dir, 'gateway.yaml');
  writeFileSync(cfg, stringify(config));
  const proc = spawn(process.execPath, [join(root, 'dist/cli.js'), '--config', cfg], {
    env: { ...process.env, ZTGATE_PROCESSES: '1', ZTGATE_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
  const exited = new Promise((r) => proc.once('exit', r));
  await Promise.race([Promise.all(ports.map((p) => waitPort(p, 30_000))), exited.then(() => Promise.reject(new Error(`gateway exited:\n${err}`)))]);
  return {
    ports,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

const pct = (a, b) => (b === 0 ? '   n/a' : ((100 * a) / b).toFixed(1).padStart(5) + '%');

export function score(tests, results) {
  // results: Map testId -> { [level]: verdict }
  const halves = ['dev', 'held-out', 'all'];
  const table = {};
  for (const h of halves) {
    const rows = { attack: {}, fp: {}, fpBenignDesc: {}, families: {} };
    for (const L of LEVELS) {
      const a = { blocked: 0, refused: 0, total: 0, skipped: 0 };
      const f = { blocked: 0, total: 0, skipped: 0 };
      const fb = { blocked: 0, total: 0 };
      for (const t of tests) {
        if (h !== 'all' && t.half !== h) continue;
        const r = results.get(t.id)?.[L];
        if (!r) continue;
        if (t.kind === 'attack' && t.pl <= L) {
          if (r.v === 'skip') {
            a.skipped++;
            continue;
          }
          a.total++;
          if (r.v === 'blocked') a.blocked++;
          if (r.v === 'refused') a.refused++;
          const fam = (rows.families[t.family] ??= {});
          const e = (fam[L] ??= { blocked: 0, total: 0 });
          e.total++;
          if (r.v !== 'passed') e.blocked++;
        } else if (t.kind === 'fp') {
          if (r.v === 'skip') {
            f.skipped++;
            continue;
          }
          f.total++;
          if (r.v !== 'passed') f.blocked++;
          if (t.benignDesc) {
            fb.total++;
            if (r.v !== 'passed') fb.blocked++;
          }
        }
      }
      rows.attack[L] = a;
      rows.fp[L] = f;
      rows.fpBenignDesc[L] = fb;
    }
    table[h] = rows;
  }
  return table;
}

function print(table, tests, results, opts) {
  for (const h of ['dev', 'held-out', 'all']) {
    const rows = table[h];
    console.log(`\n== ${h} ==`);
    console.log('level   attack blocked (inspect + other gateway refusal)      must-not-fire blocked      (desc reads benign)');
    for (const L of LEVELS) {
      const a = rows.attack[L];
      const f = rows.fp[L];
      const fb = rows.fpBenignDesc[L];
      console.log(
        `  ${L}     ${pct(a.blocked + a.refused, a.total)} (${a.blocked}+${a.refused}/${a.total}, ${a.skipped} skipped)`.padEnd(62) +
          `${pct(f.blocked, f.total)} (${f.blocked}/${f.total}, ${f.skipped} skipped)`.padEnd(27) +
          `${pct(fb.blocked, fb.total)} (${fb.blocked}/${fb.total})`,
      );
    }
    console.log('family  ' + LEVELS.map((L) => `L${L}`.padStart(17)).join(''));
    for (const fam of Object.keys(rows.families).sort()) {
      const cells = LEVELS.map((L) => {
        const e = rows.families[fam][L];
        return e ? `${pct(e.blocked, e.total)} ${`${e.blocked}/${e.total}`.padStart(9)}` : ''.padStart(16);
      });
      console.log(`  ${fam}   ` + cells.map((c) => c.padStart(17)).join(''));
    }
  }
  const skips = {};
  for (const t of tests) {
    const reason = t.skip ?? Object.values(results.get(t.id) ?? {}).find((r) => r.v === 'skip')?.reason;
    if (reason) skips[reason] = (skips[reason] ?? 0) + 1;
  }
  console.log('\nskipped tests by reason (any level):');
  for (const [r, n] of Object.entries(skips).sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${r}`);
  if (opts.misses) {
    const L = opts.level ?? 2;
    console.log(`\ndevelopment half at level ${L}: misses (attack tests passed) and must-not-fire tests blocked`);
    for (const t of tests) {
      if (t.half !== 'dev' || (opts.family && t.family !== opts.family)) continue;
      const r = results.get(t.id)?.[L];
      if (!r) continue;
      if (t.kind === 'attack' && t.pl <= L && r.v === 'passed') console.log(`MISS ${t.id} pl${t.pl} ${t.desc.slice(0, 100)}\n     ${JSON.stringify(t.request.toString('latin1').slice(0, 600))}`);
      if (t.kind === 'fp' && r.v !== 'passed' && r.v !== 'skip') console.log(`FP   ${t.id} ${r.v} ${t.desc.slice(0, 100)}\n     ${JSON.stringify(t.request.toString('latin1').slice(0, 600))}`);
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const crs = opts.crs ?? findCrs(root);
  if (!crs) {
    console.error('CRS corpus not found (../shared/corpora/crs); pass --crs DIR');
    process.exit(2);
  }
  const levels = ruleLevels(join(crs, 'rules'));
  const tests = loadTests(join(crs, 'tests/regression/tests'), levels);
  const upstream = await startUpstream();
  const gw = await startGateway(upstream.address().port);
  const results = new Map();
  const started = Date.now();
  try {
    const jobs = [];
    for (const t of tests) if (!t.skip) for (const [i, L] of LEVELS.entries()) jobs.push({ t, L, port: gw.ports[i] });
    await pool(jobs, opts.concurrency, async ({ t, L, port }) => {
      const r = verdict(await send(port, t.request));
      (results.get(t.id) ?? results.set(t.id, {}).get(t.id))[L] = r;
    });
  } finally {
    await gw.stop();
    upstream.close();
  }
  const table = score(tests, results);
  if (opts.json) {
    console.log(JSON.stringify({ tests: tests.length, seconds: (Date.now() - started) / 1000, table }, null, 2));
    return;
  }
  const counts = { attack: 0, fp: 0, other: 0 };
  for (const t of tests) counts[t.kind]++;
  console.log(`CRS regression tests: ${tests.length} (${counts.attack} attack, ${counts.fp} must-not-fire, ${counts.other} other); ${((Date.now() - started) / 1000).toFixed(1)} s`);
  print(table, tests, results, opts);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
