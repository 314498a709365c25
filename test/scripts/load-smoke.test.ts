import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, basicConfig, freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { runScript, type ScriptRun } from '../helpers/run-script.js';

const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p));

// The bundled load script (scripts/load/index.mjs) run as users run it:
// refuses bad command lines with a clear message, and against a real gateway
// prints a JSON result whose shape the README documents. No timing asserted.

const SCRIPT = join(ROOT, 'scripts/load/index.mjs');
// Two gateways start in this file (one here, one by the script); on the
// shared 2-core machine one start alone took 10 s when it was busy.
t.setTimeout(180_000);

const runLoad = (args: string[]): Promise<ScriptRun> => runScript(SCRIPT, args);

interface LoadResult {
  scenario: string;
  mode: string;
  target: { url: string; started: boolean };
  settings: { duration_s: number; connections: number; rate: number | null; tool: string };
  result: {
    requests: number;
    rps: number;
    latency_ms: Record<'p50' | 'p90' | 'p99' | 'p999' | 'max' | 'mean', number>;
    errors: { socket: number; timeout: number; non2xx: number; total: number };
    status: Record<string, number>;
  };
  requests_per_cpu_s: number | null;
}

function checkShape(t: Test, r: LoadResult): void {
  t.ok(r.result.requests > 0, 'requests were made');
  t.equal(r.result.errors.total, 0, 'no errors, no non-2xx');
  t.equal(r.result.status['200'], r.result.requests, 'every answer was a 200');
  const l = r.result.latency_ms;
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const) t.type(l[k], 'number', `latency ${k} is a number`);
  t.ok(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, 'percentiles are ordered');
  t.type(r.result.rps, 'number');
}

t.test('bad command lines: refused with a message naming the problem, exit 2, nothing started', async (t) => {
  // The parser in-process (each case would otherwise cost a Node start), then the exit codes for real.
  const { parse } = (await import(join(ROOT, 'scripts/load/args.mjs'))) as { parse(argv: string[]): unknown };
  const cases: [string[], RegExp][] = [
    [[], /no scenario named/],
    [['nosuch'], /unknown scenario "nosuch" \(known: bare, /],
    [['bare', 'jwt'], /one scenario at a time/],
    [['bare', '--rate', '0'], /--rate "0": want an integer >= 1/],
    [['bare', '--tool', 'ab'], /--tool "ab": want auto, autocannon or wrk/],
    [['bare', '--duration', 'ten'], /--duration "ten"/],
    [['bare', '--connections', '1.5'], /--connections "1.5": want an integer/],
    [['bare', '--bogus'], /Unknown option '--bogus'/],
    [['bare', '--header', 'no-colon'], /--header "no-colon": want 'Name: value'/],
    [['bare', '--header', 'x: a\r\nInjected: 1'], /want 'Name: value'/],
    [['jwt', '--url', 'http://127.0.0.1:9'], /jwt against --url needs --token/],
    [['jwt-distinct', '--url', 'http://127.0.0.1:9'], /needs --tokens-file/],
    [['bare', '--url', 'ftp://x'], /only http:\/\//],
    [['bare', '--url', 'not a url'], /not a URL/],
  ];
  for (const [args, message] of cases) t.throws(() => parse(args), { message }, `${args.join(' ') || '(nothing)'}: refused, says why`);
  t.match(parse(['full', '--url', 'http://127.0.0.1:8080/x', '--token', 'tok', '--rate', '500']), { scenario: 'full', url: 'http://127.0.0.1:8080', rate: 500, token: 'tok', tool: 'auto' }, 'a good line parses');

  const port = await freePort();
  const [bad, refused] = await Promise.all([
    runLoad(['nosuch']),
    runLoad(['bare', '--url', `http://127.0.0.1:${port}`, '--duration', '1', '--warmup', '0', '--out', '-']),
  ]);
  t.equal(bad.code, 2, 'a bad command line exits 2');
  t.match(bad.stderr, /\[load\] error: unknown scenario "nosuch"/);
  t.equal(refused.code, 1, 'nothing listening at --url: exit 1');
  t.match(refused.stderr, /no answer \(ECONNREFUSED\)/, 'and says so');
});

t.test('against a running gateway (--url)', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  // A public catch-all, and /jwt/* behind an identity stage the script's token cannot pass.
  const config = basicConfig(port, upstream.port);
  config.identity = { consumers: [{ name: 'c', apiKeys: [{ sha256: createHash('sha256').update('the-right-key-0123456789').digest('hex') }] }] };
  (config.routes as unknown[]).unshift({ name: 'jwt', match: { path: '/jwt/*' }, upstream: 'app', stages: [{ type: 'identity', methods: [{ apiKey: {} }] }] });
  const gw = await startGateway(config);
  t.teardown(() => gw.stop());

  t.test('a request the gateway refuses: exit 1 with the status, before any load', async (t) => {
    const r = await runLoad(['jwt', '--url', gw.url, '--token', 'not-a-token', '--duration', '1', '--warmup', '0', '--out', '-']);
    t.equal(r.code, 1, 'exit 1');
    t.match(r.stderr, /GET http:\/\/127\.0\.0\.1:\d+\/jwt\/x answered 401, not 2xx/, 'names the request and the status');
    t.match(r.stderr, /ZTG_UNAUTHENTICATED/, 'and shows the problem body');
    t.notOk(upstream.seen.some((s) => s.url.startsWith('/jwt/')), 'no load was sent');
  });

  t.test('fixed rate: rate mode, requests succeed, gateway keeps serving', async (t) => {
    const r = await runLoad(['bare', '--url', gw.url, '--rate', '200', '--connections', '4', '--duration', '1', '--warmup', '0', '--tool', 'autocannon', '--json', '--out', '-']);
    t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr.slice(-500)})`);
    const result = JSON.parse(r.stdout) as LoadResult;
    t.equal(result.mode, 'rate');
    t.equal(result.settings.rate, 200);
    t.equal(result.target.started, false);
    t.equal(result.requests_per_cpu_s, null, 'no CPU figure for a gateway the script did not start');
    checkShape(t, result);
    t.ok(upstream.seen.length >= result.result.requests, 'the requests reached the upstream');
    t.equal((await fetch(`${gw.url}/after`)).status, 200, 'the gateway still serves');
  });

  t.test('fixed rate with wrk: paced, not flat out', { skip: WRK ? false : 'wrk is not installed (scripts/install-bench-tools.sh)' }, async (t) => {
    const r = await runLoad(['bare', '--url', gw.url, '--rate', '100', '--connections', '4', '--duration', '2', '--warmup', '0', '--tool', 'wrk', '--json', '--out', '-']);
    t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr.slice(-500)})`);
    const result = JSON.parse(r.stdout) as LoadResult;
    t.equal(result.mode, 'rate');
    t.ok(result.result.requests > 0, 'requests were sent');
    t.equal(result.result.errors.total, 0, 'no errors');
    // Flat out, wrk sends thousands a second here; paced at 100/s for 2 s, about 200.
    t.ok(result.result.requests < 1000, `paced: ${result.result.requests} requests in 2 s at 100/s`);
  });
});

t.test('bare scenario, maximum throughput, on a gateway the script starts: JSON result on stdout and in --out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-load-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'bare.json');
  const r = await runLoad(['bare', '--duration', '1', '--warmup', '0', '--connections', '4', '--tool', 'autocannon', '--json', '--out', out]);
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr.slice(-500)})`);
  const result = JSON.parse(r.stdout) as LoadResult;
  t.same(JSON.parse(readFileSync(out, 'utf8')), result, 'the file holds the same result');
  t.equal(result.scenario, 'bare');
  t.equal(result.mode, 'max');
  t.equal(result.target.started, true, 'the script started its own gateway');
  t.match(result.settings, { duration_s: 1, connections: 4, rate: null, tool: /^autocannon / });
  checkShape(t, result);
  t.ok(typeof result.requests_per_cpu_s === 'number' && result.requests_per_cpu_s > 0, 'requests per CPU-second of the gateway reported');
});
