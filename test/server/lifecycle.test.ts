import t from 'tap';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI, ROOT, freePort, startGateway } from '../helpers/gateway.js';
import { spawnNode } from '../helpers/spawn-node.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

/**
 * The gateway as an operator meets it: `--check`, SIGHUP reload, SIGTERM
 * drain, a crashed process replaced, bad tuning refused, the embedded demo.
 */

// Four gateway starts and fourteen CLI runs: on a busy 2-core machine this file
// alone took 75-95 s (each start ~11 s), too close to the suite's 120 s per file.
t.setTimeout(180_000);

interface Answer {
  status: number;
  body: string;
  json: Record<string, unknown> | null;
}

/** One request on a connection of its own (no pooled socket into a dead process). */
function get(port: number, path: string, timeoutMs = 8000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'gateway.test' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(body) as Record<string, unknown>;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode!, body, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** An upstream that answers with its name. */
function named(name: string): Promise<EchoUpstream> {
  return startEchoUpstream((req, res) => {
    const out = JSON.stringify({ upstream: name, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
}

/**
 * An upstream that answers with its name only once `release()` is called: a
 * request stays in flight exactly as long as the test needs (no fixed delay
 * to outlast a reload or a drain on a slow machine, nor to sit out on a fast one).
 */
async function held(name: string): Promise<EchoUpstream & { release(): void }> {
  let released = false;
  const waiting: (() => void)[] = [];
  const upstream = await startEchoUpstream((req, res) => {
    const out = JSON.stringify({ upstream: name, url: req.url });
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    };
    if (released) answer();
    else waiting.push(answer);
  });
  return Object.assign(upstream, {
    release() {
      released = true;
      for (const answer of waiting.splice(0)) answer();
    },
  });
}

// Generous: a held request waits on the test, which may be slow on a loaded machine.
const timeouts = { connectMs: 1000, firstByteMs: 30_000, idleMs: 30_000 };

function config(port: number, upstreams: Record<string, number>, routes: { name: string; path: string; upstream: string }[]) {
  return {
    listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
    upstreams: Object.entries(upstreams).map(([name, p]) => ({ name, targets: [{ url: `http://127.0.0.1:${p}` }], timeouts })),
    routes: routes.map((r) => ({ name: r.name, match: { path: r.path }, upstream: r.upstream, public: true })),
  };
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
/** At most two CLI processes at a time: each spends ~1 s of CPU loading, on a 2-core machine. */
let running = 0;
const waiting: (() => void)[] = [];
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  if (running >= 2) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await runNow(args, env);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

async function runNow(args: string[], env: Record<string, string>): Promise<Run> {
  const proc = spawnNode([CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ztgate-lifecycle-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

t.test('--check', async (t) => {
  const valid = file(
    'valid.yaml',
    stringify({
      listeners: [{ name: 'main', host: '127.0.0.1', port: 8080 }],
      upstreams: [{ name: 'orders', targets: [{ url: 'http://127.0.0.1:9000' }] }],
      identity: { consumers: [{ name: 'acme', apiKeys: [{ sha256: 'a'.repeat(64) }] }] },
      routes: [
        { name: 'shop', match: { path: '/shop/*' }, upstream: 'orders', public: true },
        {
          name: 'orders-api',
          match: { path: '/orders/:id' },
          upstream: 'orders',
          stages: [{ type: 'identity', methods: [{ apiKey: {} }] }],
        },
        { name: 'health', match: { path: '/health' }, upstream: 'orders', public: true },
      ],
    }),
  );
  const base = (routes: string) => `listeners:\n  - { name: main, host: 127.0.0.1, port: 8080 }\nupstreams:\n  - { name: orders, targets: [{ url: "http://127.0.0.1:9000" }] }\nroutes:\n${routes}`;
  const invalid: [string, string, RegExp[]][] = [
    ['unknown upstream', base('  - { name: r, match: { path: "/*" }, upstream: ordrs }\n'), [/routes\[0\]\.upstream: unknown upstream "ordrs"/]],
    ['unknown field', base('  - { name: r, match: { path: "/*" }, upstream: orders, timeout: 5 }\n'), [/routes\[0\]: unknown field "timeout"/]],
    [
      'bad port',
      'listeners:\n  - { name: main, port: 70000 }\nupstreams:\n  - { name: orders, targets: [{ url: "http://127.0.0.1:9000" }] }\nroutes: []\n',
      [/listeners\[0\]\.port: must be <= 65535/],
    ],
    [
      'duplicate names',
      'listeners:\n  - { name: main, port: 8080 }\nupstreams:\n  - { name: orders, targets: [{ url: "http://127.0.0.1:9000" }] }\n  - { name: orders, targets: [{ url: "http://127.0.0.1:9001" }] }\nroutes:\n  - { name: r, match: { path: "/a" }, upstream: orders }\n  - { name: r, match: { path: "/b" }, upstream: orders }\n',
      [/upstreams\[1\]\.name: "orders" is already used by upstreams\[0\]/, /routes\[1\]\.name: "r" is already used by routes\[0\]/],
    ],
    [
      'duplicate YAML keys',
      'listeners:\n  - name: main\n    port: 8080\n    port: 8081\nupstreams:\n  - { name: orders, targets: [{ url: "http://127.0.0.1:9000" }] }\nroutes: []\n',
      [/Map keys must be unique \("port"\) at line 4/],
    ],
    ['conflicting routes', base('  - { name: a, match: { path: "/x" }, upstream: orders, public: true }\n  - { name: b, match: { path: "/x" }, upstream: orders, public: true }\n'), [/routes: .*conflict/]],
    ['closed by default', base('  - { name: a, match: { path: "/x" }, upstream: orders }\n'), [/routes\[0\]: no identity stage; add one, or set public: true/]],
    ['not YAML at all', 'listeners: [\n', [/invalid\.yaml|line 2/]],
  ];

  const [ok, missing, ...bad] = await Promise.all([
    run(['--check', valid]),
    run(['--check', join(dir, 'does-not-exist.yaml')]),
    ...invalid.map(([name, text]) => run(['--check', file(`${name.replace(/ /g, '-')}.yaml`, text)])),
  ]);
  t.equal(ok.code, 0, 'valid file: exit 0');
  t.match(ok.stdout, `${valid}: valid (1 listeners, 1 upstreams, 3 routes)`);
  t.match(ok.stdout, /public routes \(no identity required\):\n {2}shop \(\/shop\/\*\)\n {2}health \(\/health\)\n/, 'lists the public routes');
  t.notMatch(ok.stdout, 'orders-api', 'a closed route is not listed as public');
  t.equal(ok.stderr, '');

  t.equal(missing.code, 1, 'missing file: exit 1');
  t.match(missing.stderr, /does-not-exist\.yaml: cannot read the config file: file not found \(ENOENT\)/);

  invalid.forEach(([name, , patterns], i) => {
    t.equal(bad[i].code, 1, `${name}: exit 1`);
    for (const p of patterns) t.match(bad[i].stderr, p, `${name}: stderr names the problem`);
    t.equal(bad[i].stdout, '', `${name}: nothing claims it is valid`);
    t.notMatch(bad[i].stderr, /\n\s+at .*\.js:\d+/, `${name}: no stack trace`);
  });
});

t.test('--check: secret files are found beside the config, whatever the working directory', async (t) => {
  // The CLI runs from the repository root; the config and its key sit in another folder.
  writeFileSync(join(dir, 'pii-hash.key'), 'a-hash-key-of-enough-length-0123456789\n');
  const withKey = (file: string) =>
    stringify({
      listeners: [{ name: 'main', host: '127.0.0.1', port: 8080 }],
      upstreams: [{ name: 'orders', targets: [{ url: 'http://127.0.0.1:9000' }] }],
      routes: [{ name: 'r', match: { path: '/*' }, upstream: 'orders', public: true, stages: [{ type: 'protect', hashKey: { file }, actions: { US_SSN: 'hash' } }] }],
    });
  const [found, absent] = await Promise.all([run(['--check', file('secret-beside.yaml', withKey('pii-hash.key'))]), run(['--check', file('secret-absent.yaml', withKey('nope.key'))])]);
  t.equal(found.code, 0, `a key beside the config: valid (${found.stderr.trim()})`);
  t.equal(absent.code, 1, 'a key that is not there: exit 1 at --check, not a crash at start');
  t.match(absent.stderr, `routes[0].stages[0].hashKey: cannot read secret file "${join(dir, 'nope.key')}": file not found (ENOENT)`, 'named by its place, with the path looked at');
});

t.test('bad tuning environment is refused before anything starts', async (t) => {
  const cfg = file('tuning.yaml', stringify(config(await freePort(), { a: 9 }, [{ name: 'r', path: '/*', upstream: 'a' }])));
  const runs = await Promise.all([
    run(['--config', cfg], { ZTGATE_PROCESSES: 'abc' }),
    run(['--config', cfg], { ZTGATE_PROCESSES: '0' }),
    run(['--config', cfg], { ZTGATE_PROCESSES: '1', ZTGATE_DRAIN_MS: '-5' }),
    run(['--config', cfg], { ZTGATE_PROCESSES: '1', ZTGATE_LOG_LEVEL: 'loud' }),
  ]);
  const names = ['ZTGATE_PROCESSES', 'ZTGATE_PROCESSES', 'ZTGATE_DRAIN_MS', 'ZTGATE_LOG_LEVEL'];
  runs.forEach((r, i) => {
    t.not(r.code, 0, `${names[i]}: non-zero exit`);
    t.ok(r.code !== null, `${names[i]}: exited by itself`);
    t.match(r.stderr, names[i], `${names[i]}: the message names the variable`);
    t.notMatch(r.stdout, 'ztgate listening');
  });
  t.match(runs[0].stderr, '"abc"', 'and quotes the bad value');
});

t.test('SIGHUP reload', async (t) => {
  const [a, b, slow] = await Promise.all([named('A'), named('B'), held('S')]);
  const port = await freePort();
  const gw = await startGateway(
    config(port, { a: a.port, b: b.port, s: slow.port }, [
      { name: 'slow', path: '/slow/*', upstream: 's' },
      { name: 'all', path: '/*', upstream: 'a' },
    ]),
    { processes: 1 },
  );
  t.teardown(async () => {
    slow.release();
    await gw.stop();
    await Promise.all([a.close(), b.close(), slow.close()]);
  });

  t.equal((await get(port, '/x')).json?.upstream, 'A', 'before: A');

  // A request in flight on the old config while the new one is swapped in.
  const inFlight = get(port, '/slow/1', 30_000);
  await until(() => slow.seen.length === 1, 'the slow request to reach its upstream');

  writeFileSync(
    gw.configPath,
    stringify(config(port, { a: a.port, b: b.port, s: slow.port }, [
      { name: 'slow', path: '/slow/*', upstream: 'b' },
      { name: 'all', path: '/*', upstream: 'b' },
    ])),
  );
  gw.proc.kill('SIGHUP');
  const reloaded = await gw.waitForLog((l) => l.msg === 'config reloaded');
  t.equal(reloaded.generation, 1);

  t.equal((await get(port, '/x')).json?.upstream, 'B', 'after reload: B');
  t.equal((await get(port, '/slow/2')).json?.upstream, 'B', 'the changed route too');
  slow.release();
  const old = await inFlight;
  t.equal(old.status, 200, 'the request in flight during the reload completed');
  t.equal(old.json?.upstream, 'S', '...on the config it started with');
  t.equal(slow.seen.length, 1, 'the old upstream got nothing new');

  // A broken file is refused; the running config keeps serving.
  writeFileSync(
    gw.configPath,
    stringify(config(port, { a: a.port, b: b.port }, [{ name: 'all', path: '/*', upstream: 'nope' }])),
  );
  gw.proc.kill('SIGHUP');
  const rejected = await gw.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('new config rejected'));
  t.equal(rejected.level, 50, 'logged as an error');
  t.same(rejected.issues, ['routes[0].upstream: unknown upstream "nope"'], 'the log line names the problem, one reason per entry');
  const beforeB = b.seen.length;
  t.equal((await get(port, '/x')).json?.upstream, 'B', 'still B after the rejected reload');
  t.equal(b.seen.length, beforeB + 1);
  t.notOk(gw.logs().some((l) => l.msg === 'config reloaded' && l.generation === 2), 'no second generation was swapped in');

  // A YAML syntax error is refused the same way.
  writeFileSync(gw.configPath, 'listeners: [\n');
  gw.proc.kill('SIGHUP');
  await until(() => gw.logs().filter((l) => typeof l.msg === 'string' && l.msg.includes('new config rejected')).length === 2, 'second rejection');
  t.equal((await get(port, '/x')).json?.upstream, 'B', 'still B after a YAML error');
  t.equal(gw.proc.exitCode, null, 'the supervisor is still running');
});

t.test('SIGTERM drains: the request in flight completes, the process exits 0', async (t) => {
  const slow = await held('S');
  t.teardown(() => {
    slow.release();
    return slow.close();
  });
  const port = await freePort();
  // The drain deadline well beyond what the held request waits on a loaded machine.
  const gw = await startGateway(config(port, { s: slow.port }, [{ name: 'all', path: '/*', upstream: 's' }]), { processes: 1, env: { ZTGATE_DRAIN_MS: '60000' } });
  const exited = once(gw.proc, 'exit');

  const inFlight = get(port, '/slow', 30_000);
  await until(() => slow.seen.length === 1, 'the slow request to reach its upstream');
  gw.proc.kill('SIGTERM');
  await gw.waitForLog((l) => l.msg === 'stopping: draining gateway processes');
  // New connections are no longer accepted once the gateway process drains
  // (probed with bare connects, which do not count as requests in flight).
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && (await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
  const late = await get(port, '/late').then(
    (r) => `status ${r.status}`,
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
  t.ok(late === 'ECONNREFUSED' || late === 'status 503' || late === 'ECONNRESET', `a new request after SIGTERM is not served (${late})`);
  t.equal(slow.seen.length, 1, 'the late request never reached the upstream');

  slow.release();
  const res = await inFlight;
  t.equal(res.status, 200, 'the request in flight completed');
  t.equal(res.json?.upstream, 'S');
  const [code, signal] = (await exited) as [number | null, string | null];
  t.equal(code, 0, 'exit code 0');
  t.equal(signal, null);
  t.ok(gw.logs().some((l) => l.msg === 'drained, exiting' && l.abandoned === 0), 'the gateway process drained with nothing abandoned');
});

t.test('a killed gateway process is replaced while the others serve', async (t) => {
  const a = await named('A');
  t.teardown(() => a.close());
  const port = await freePort();
  const gw = await startGateway(config(port, { a: a.port }, [{ name: 'all', path: '/*', upstream: 'a' }]), { processes: 2 });
  t.teardown(() => gw.stop());

  const supervisor = gw.proc.pid!;
  const before = childPids(supervisor);
  t.equal(before.length, 2, 'two gateway processes');
  const victim = before[0];
  process.kill(victim, 'SIGKILL');
  const exitLine = await gw.waitForLog((l) => l.msg === 'gateway process exited; restarting' && l.gatewayPid === victim);
  t.equal(exitLine.signal, 'SIGKILL');

  // The survivor (and soon the replacement) answer everything.
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(port, `/r${i}`)));
  t.same(
    answers.map((r) => r.status),
    Array(20).fill(200),
    'every request succeeds after the kill',
  );

  let replacement = 0;
  await until(() => {
    const now = childPids(supervisor);
    replacement = now.find((p) => !before.includes(p)) ?? 0;
    return now.length === 2 && replacement > 0;
  }, 'a replacement process');
  t.notOk(childPids(supervisor).includes(victim), 'the killed process is gone');
  await gw.waitForLog((l) => l.msg === 'gateway process listening' && l.gatewayPid === replacement);
  t.pass(`replacement ${replacement} is listening`);

  const after = await Promise.all(Array.from({ length: 10 }, (_, i) => get(port, `/after${i}`)));
  t.same(after.map((r) => r.status), Array(10).fill(200), 'still serving with the replacement');
});

t.test('the embedded demo', async (t) => {
  const [gatewayPort, upstreamPort] = [await freePort(), await freePort()];
  const env: Record<string, string | undefined> = {
    ...process.env,
    ZTGATE_PROCESSES: '1',
    ZTGATE_DEMO_PORT: String(gatewayPort),
    ZTGATE_DEMO_UPSTREAM_PORT: String(upstreamPort),
  };
  delete env.ZTGATE_CONFIG;
  const proc = spawnNode([CLI], { cwd: ROOT, env });
  const exited = once(proc, 'exit');
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });

  const curl = `curl -i 'http://127.0.0.1:${gatewayPort}/api/hello?name=ztgate'`;
  await until(() => out.includes(curl) || proc.exitCode !== null, 'the banner', 15_000);
  t.match(out, curl, 'the banner shows a curl line for the gateway');
  t.match(out, `demo upstream:  http://127.0.0.1:${upstreamPort}`);

  const res = await get(gatewayPort, '/api/hello?name=ztgate');
  t.equal(res.status, 200);
  t.equal(res.json?.service, 'ztgate-demo-upstream', 'JSON from the demo upstream');
  t.equal(res.json?.url, '/api/hello?name=ztgate');
  t.match((res.json?.headers as Record<string, string>)['x-request-id'], /^[0-9a-f-]{36}$/, 'forwarded through the gateway');
  t.equal((await get(gatewayPort, '/health')).status, 200);
  t.equal((await get(gatewayPort, '/elsewhere')).status, 404, 'only the demo routes exist');

  proc.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  t.equal(code, 0, 'the demo stops cleanly');
});

t.test('a second SIGTERM while draining exits at once, without waiting for the drain', async (t) => {
  const slow = await held('S');
  t.teardown(() => slow.close());
  const port = await freePort();
  const gw = await startGateway(config(port, { a: slow.port, b: slow.port }, [{ name: 'all', path: '/*', upstream: 'a' }]), { env: { ZTGATE_DRAIN_MS: '60000' } });
  const inFlight = get(port, '/held', 60_000).catch(() => null);
  await until(() => slow.seen.length > 0, 'the request reached the upstream');
  const started = Date.now();
  gw.proc.kill('SIGTERM');
  await gw.waitForLog((l) => l.msg === 'stopping: draining gateway processes');
  gw.proc.kill('SIGTERM');
  const code = await gw.stop();
  t.ok(Date.now() - started < 30_000, 'gone well before the 60 s drain deadline');
  t.not(code, 0, 'a forced exit is not a clean one');
  t.equal(await inFlight, null, 'the request in flight is cut, as asked');
});
