// Load generators behind one interface: run(url, request, { connections,
// durationS, rate }) → one report (req/s, p50/p90/p99/p99.9/max in ms,
// errors and non-2xx). wrk is the C generator, for maximum throughput and, paced
// by a Lua delay(), for a fixed rate; autocannon runs in this process
// (programmatic API) and holds a rate too, but on a 2-core machine it needs
// more CPU than the gateway it loads, which shows as latency. A request is
// { method, path, headers, body, tokens }: `tokens` (an array or a file of
// lines) sends a different bearer token with each request.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Child, ROOT, toolVersion } from './procs.mjs';

const require = createRequire(import.meta.url);
const REPORT_LUA = path.join(ROOT, 'native-bench', 'lua', 'report.lua');

/** The load generator currently running (killed on interruption). */
export const running = { child: null };

// ------------------------------------------------------------------ wrk

/**
 * A wrk script for `request`: constant method/body/headers keep wrk on its
 * fast path (no request() function); distinct tokens need request().
 */
export function requestLua(dir, name, request, paceMs = 0) {
  const lines = [];
  if (paceMs > 0) {
    // Fixed rate: after each answer a connection waits paceMs before its next request.
    // wrk's delay() counts whole milliseconds, so the pause is drawn between the two
    // integers around paceMs with the mean paceMs.
    const lo = Math.floor(paceMs);
    lines.push(`local lo, frac = ${lo}, ${(paceMs - lo).toFixed(4)}`, 'delay = function()', '  if math.random() < frac then return lo + 1 end', '  return lo', 'end');
  }
  const headers = { ...(request.headers || {}) };
  if (request.tokens) {
    const file = typeof request.tokens === 'string' ? request.tokens : writeLines(dir, `${name}-tokens.txt`, request.tokens);
    lines.push(
      'local tokens = {}',
      `for line in io.lines(${JSON.stringify(file)}) do tokens[#tokens + 1] = line end`,
      'local i = 0',
      'request = function()',
      '  i = i + 1',
      '  if i > #tokens then i = 1 end',
      '  wrk.headers["Authorization"] = "Bearer " .. tokens[i]',
      '  return wrk.format()',
      'end',
    );
  }
  if (request.method && request.method !== 'GET') lines.push(`wrk.method = ${JSON.stringify(request.method)}`);
  if (request.body != null) lines.push(`wrk.body = ${JSON.stringify(request.body)}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  lines.push(`wrk.path = ${JSON.stringify(request.path || '/')}`, `dofile(${JSON.stringify(REPORT_LUA)})`, '');
  const file = path.join(dir, `${name}.lua`);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

function writeLines(dir, name, lines) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** `cpus`: run wrk on these CPUs only (a taskset list, see pin.mjs), or anywhere when null. */
export function wrkRunner(wrkBin, { tmpDir, threads = 1, cpus = null }) {
  const version = toolVersion(wrkBin, ['-v'], /wrk\s+([^\s]+)/);
  const scripts = new Map();
  // Per target and rate: asked/got of the last paced run (its warmup), to ask the next run for
  // enough more that the answer time the pause does not count is made up.
  const catchUp = new Map();
  return {
    name: 'wrk',
    version,
    async run(baseUrl, request, { connections, durationS, rate = 0 }) {
      const rateKey = `${baseUrl}${request.path || '/'} ${rate}`;
      const factor = rate > 0 ? catchUp.get(rateKey) ?? 1 : 1;
      // Connections x 1000 / rate ms between one connection's requests; answer time comes on top.
      const paceMs = rate > 0 ? (1000 * connections) / (rate * factor) : 0;
      const key = JSON.stringify({ ...request, paceMs, tokens: request.tokens ? (typeof request.tokens === 'string' ? request.tokens : request.tokens.length) : null });
      if (!scripts.has(key)) scripts.set(key, requestLua(tmpDir, `req${scripts.size}`, request, paceMs));
      const args = [
        '-t', String(Math.min(threads, connections)),
        '-c', String(connections),
        '-d', `${Math.max(1, Math.round(durationS))}s`, // wrk reads whole seconds
        '--timeout', '5s',
        '-s', scripts.get(key),
        `${baseUrl}${request.path || '/'}`,
      ];
      const c = cpus === null ? new Child('wrk', wrkBin, args) : new Child('wrk', 'taskset', ['-c', cpus, wrkBin, ...args]);
      running.child = c;
      await c.exitPromise;
      c.forget();
      running.child = null;
      const line = c.stdoutBuf.split('\n').reverse().find((l) => l.startsWith('{"report":"wrk"'));
      if (!line) throw new Error(`wrk produced no report (${c.exitInfo}): ${c.tail(5)}\n${c.stdoutBuf.slice(-500)}`);
      const r = JSON.parse(line);
      if (rate > 0 && r.rps > 0) catchUp.set(rateKey, Math.min(2, factor * (rate / r.rps)));
      return {
        ...r,
        tool: 'wrk',
        status: null,
        target_rate: rate || null,
        latency_source: rate > 0 ? 'wrk (paced by delay(); from request write to answer, no coordinated-omission correction)' : 'wrk',
      };
    },
  };
}

// ------------------------------------------------------------------ autocannon

export function autocannonRunner() {
  const autocannon = require('autocannon');
  const hdr = require('hdr-histogram-js');
  const version = require('autocannon/package.json').version;
  const tokenCache = new Map();
  const loadTokens = (t) => {
    if (Array.isArray(t)) return t;
    if (!tokenCache.has(t)) tokenCache.set(t, fs.readFileSync(t, 'utf8').split('\n').filter(Boolean));
    return tokenCache.get(t);
  };
  return {
    name: 'autocannon',
    version,
    run(baseUrl, request, { connections, durationS, rate = 0 }) {
      // Our own histogram in microseconds: autocannon's records whole milliseconds.
      const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
      // At a fixed rate each connection sends every connections/rate seconds;
      // a late answer delays the next request, so correct for coordinated omission.
      const intervalUs = rate > 0 ? Math.max(1, Math.round((1e6 * Math.min(connections, rate)) / rate)) : 0;
      const status = {};
      const opts = {
        url: `${baseUrl}${request.path || '/'}`,
        connections: rate > 0 ? Math.min(connections, rate) : connections,
        duration: durationS,
        timeout: 5,
        method: request.method || 'GET',
        headers: { ...(request.headers || {}) },
        ...(request.body != null ? { body: request.body } : {}),
        ...(rate > 0 ? { overallRate: rate } : {}),
      };
      if (request.tokens) {
        const tokens = loadTokens(request.tokens);
        let i = 0;
        opts.requests = [{
          setupRequest(req) {
            const token = tokens[i];
            i = i + 1 === tokens.length ? 0 : i + 1;
            return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
          },
        }];
      }
      return new Promise((resolve, reject) => {
        const instance = autocannon(opts, (err, res) => {
          running.child = null;
          if (err) return reject(err);
          const dur = Number(res.duration) || durationS;
          const total = Object.values(status).reduce((a, n) => a + n, 0);
          const non2xx = total - Object.entries(status).filter(([s]) => s[0] === '2').reduce((a, [, n]) => a + n, 0);
          const errors = (res.errors || 0);
          const pct = (p) => (hist.totalCount ? hist.getValueAtPercentile(p) / 1000 : null);
          resolve({
            report: 'autocannon',
            tool: 'autocannon',
            requests: total,
            duration_s: dur,
            rps: total / dur,
            target_rate: rate || null,
            bytes: res.throughput ? res.throughput.total : null,
            mean_ms: hist.totalCount ? hist.mean / 1000 : null,
            stdev_ms: hist.totalCount ? hist.stdDeviation / 1000 : null,
            // From the same buckets as the percentiles, so p99.9 <= max always holds.
            max_ms: pct(100),
            p50_ms: pct(50),
            p90_ms: pct(90),
            p99_ms: pct(99),
            p999_ms: pct(99.9),
            errors_timeout: res.timeouts ?? 0,
            errors_socket: errors - (res.timeouts ?? 0),
            non2xx,
            errors_total: errors + non2xx,
            status,
            latency_source: rate > 0 ? 'hdr-histogram-js (µs), corrected for coordinated omission' : 'hdr-histogram-js (µs)',
          });
          hist.destroy();
        });
        running.child = { signalGroup: () => instance.stop() };
        instance.on('response', (client, statusCode, bytes, responseTimeMs) => {
          status[statusCode] = (status[statusCode] || 0) + 1;
          const us = Math.max(1, Math.round(responseTimeMs * 1000));
          if (intervalUs) hist.recordValueWithExpectedInterval(us, intervalUs);
          else hist.recordValue(us);
        });
      });
    },
  };
}

// ------------------------------------------------------------------ one request

/** One request of a scenario before any load: a wrong token or route shows here, not as 100% errors. */
export async function checkOnce(baseUrl, request) {
  const url = `${baseUrl}${request.path || '/'}`;
  const headers = { ...(request.headers || {}) };
  if (request.tokens) headers.authorization = `Bearer ${firstToken(request.tokens)}`;
  let res;
  try {
    res = await fetch(url, { method: request.method || 'GET', headers, body: request.body, signal: AbortSignal.timeout(10000) });
  } catch (err) {
    return { ok: false, reason: `${url}: no answer (${err.cause?.code || err.message})` };
  }
  const text = await res.text();
  if (res.status < 200 || res.status > 299) {
    return { ok: false, reason: `${request.method || 'GET'} ${url} answered ${res.status}, not 2xx: ${text.slice(0, 300)}` };
  }
  return { ok: true, status: res.status, bytes: Buffer.byteLength(text), body: text };
}

function firstToken(tokens) {
  if (Array.isArray(tokens)) return tokens[0];
  const fd = fs.openSync(tokens, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8').split('\n')[0];
  } finally {
    fs.closeSync(fd);
  }
}
