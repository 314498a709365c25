/**
 * Upstream faults through a real gateway process: a target that refuses,
 * resets, hangs, or answers 500 half the time beside a good one; every target
 * down; a target coming back. Each case has its own upstream under its own
 * route prefix. One gateway process, so one view of health.
 */
import t, { type Test } from 'tap';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';
import { answer, assertProblem, rawServer, send, until, type RawServer } from './helpers.js';

const echo = async (name: string) =>
  startEchoUpstream((req, res, body) => {
    const out = JSON.stringify({ from: name, method: req.method, body: body.toString() });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });

const good: Record<string, EchoUpstream> = {};
for (const name of ['refuse', 'reset', 'hang', 'flaky', 'other']) good[name] = await echo(name);
const refusedPort = await freePort();
const resetter = await rawServer((socket) => socket.resetAndDestroy());
const hanger = await rawServer(() => {
  /* reads the request, never answers */
});
const flaky = await rawServer((socket, _head, n) => (n % 2 === 1 ? answer(socket, 500, 'flaky failed') : answer(socket, 200, 'flaky ok')));
const downA = await freePort();
const downB = await freePort();
const backPort = await freePort();
let back: RawServer | null = null;

const url = (port: number) => ({ url: `http://127.0.0.1:${port}` });
const timeouts = { connectMs: 1000, firstByteMs: 400, idleMs: 2000 };
const upstreams = [
  { name: 'refuse', targets: [url(refusedPort), url(good.refuse.port)], timeouts },
  { name: 'reset', targets: [url(resetter.port), url(good.reset.port)], timeouts },
  { name: 'hang', targets: [url(hanger.port), url(good.hang.port)], timeouts, circuitBreaker: { minRequests: 2, failureRatio: 0.5, openMs: 600_000 } },
  { name: 'flaky', targets: [url(flaky.port), url(good.flaky.port)], timeouts, circuitBreaker: { minRequests: 6, failureRatio: 0.5, openMs: 600_000 } },
  { name: 'down', targets: [url(downA), url(downB)], timeouts, outlierDetection: { consecutiveConnectFailures: 1, maxEjectedPercent: 100, baseEjectionMs: 600_000 } },
  {
    name: 'back',
    targets: [url(backPort)],
    timeouts,
    healthCheck: { path: '/healthz', intervalMs: 200, timeoutMs: 300, unhealthyThreshold: 1, healthyThreshold: 1 },
  },
  { name: 'other', targets: [url(good.other.port)], timeouts },
];
const port = await freePort();
const gw = await startGateway({
  listeners: [{ name: 'main', host: '127.0.0.1', port }],
  upstreams,
  routes: upstreams.map((u) => ({ name: u.name, match: { path: `/${u.name}/*` }, upstream: u.name, public: true })),
});
t.teardown(async () => {
  await gw.stop();
  for (const u of Object.values(good)) await u.close();
  for (const s of [resetter, hanger, flaky, back]) await s?.close();
});

/** The gateway still serves a healthy upstream. */
async function stillServing(t: Test): Promise<void> {
  const res = await send(port, '/other/ping');
  t.equal(res.status, 200, 'a good request still works afterwards');
}

t.test('a target that refuses: every request is served by the other, bodies included (connect failures are retried for any method)', async (t) => {
  // POSTs first: after 3 connect failures (the default) the refusing target is ejected and gets no more tries.
  for (let i = 0; i < 4; i++) {
    const res = await send(port, `/refuse/post-${i}`, { method: 'POST', body: `payload-${i}`, headers: { 'content-type': 'text/plain' } });
    t.equal(res.status, 200, `POST ${i} served`);
    t.equal(JSON.parse(res.body).body, `payload-${i}`, 'the body arrived whole');
  }
  t.equal(good.refuse.seen.filter((r) => r.method === 'POST').length, 4, 'each POST reached the good target exactly once');
  const retried = await gw.waitForLog((l) => l.msg === 'retrying on another target' && l.code === 'ZTG_UPSTREAM_CONNECT' && l.route === 'refuse');
  t.ok(retried.reqId, 'the retry is logged with the request id and the first error');
  for (let i = 0; i < 12; i++) {
    const res = await send(port, `/refuse/get-${i}`);
    t.equal(res.status, 200, `GET ${i} served`);
  }
  await stillServing(t);
});

t.test('a target that resets: GETs are retried on the other; a POST already written is not (502, seen once)', async (t) => {
  for (let i = 0; i < 8; i++) {
    const res = await send(port, `/reset/get-${i}`);
    t.equal(res.status, 200, `GET ${i} served`);
  }
  const before = resetter.requests.length;
  const results = [];
  for (let i = 0; i < 2; i++) results.push(await send(port, `/reset/post-${i}`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }));
  const failed = results.filter((r) => r.status === 502);
  t.equal(failed.length, 1, 'the POST that went to the resetting target failed');
  const line = await assertProblem(t, gw, failed[0], 502, 'ZTG_UPSTREAM_RESET');
  t.ok(line.reason, 'the log line says why');
  t.equal(resetter.requests.length - before, 1, 'the resetting target saw that POST once');
  t.equal(good.reset.seen.filter((r) => r.method === 'POST').length, 1, 'the other target saw only its own POST: no retry after the body was written');
  await stillServing(t);
});

t.test('a target that hangs: first-byte timeouts are retried for GETs, its circuit opens, it gets no more traffic', async (t) => {
  for (let i = 0; i < 8; i++) {
    const res = await send(port, `/hang/get-${i}`);
    t.equal(res.status, 200, `GET ${i} served`);
  }
  t.equal(hanger.requests.length, 2, 'the hanging target got requests until its circuit opened (minRequests 2), then none');
  await stillServing(t);
});

t.test('a target answering 500 half the time: answers pass through, its circuit opens on the failure ratio', async (t) => {
  let fives = 0;
  for (let i = 0; i < 30; i++) {
    const res = await send(port, `/flaky/get-${i}`);
    if (res.status === 500) {
      fives++;
      t.equal(res.body, 'flaky failed', 'a 5xx answer is passed through, not retried');
    } else t.equal(res.status, 200);
  }
  // Requests 1..6 fail 3 of 6 but the 6th succeeded; the 7th fails: 4 of 7 ≥ 0.5 with ≥ 6 requests → open.
  t.equal(flaky.requests.length, 7, 'the flaky target got requests until the failure ratio held over minRequests (6), then none');
  t.equal(fives, 4, 'its failures were passed through');
  for (let i = 0; i < 5; i++) t.equal((await send(port, `/flaky/after-${i}`)).status, 200, 'all later requests succeed');
  await stillServing(t);
});

t.test('all targets down: one 502 while they fail, then 503 ZTG_NO_HEALTHY_UPSTREAM at once for everyone, no pile-up', async (t) => {
  const first = await send(port, '/down/first');
  await assertProblem(t, gw, first, 502, 'ZTG_UPSTREAM_CONNECT');
  const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => send(port, `/down/burst-${i}`)));
  t.same([...new Set(burst.map((r) => r.status))], [503], 'every request of the burst is refused');
  await assertProblem(t, gw, burst[0], 503, 'ZTG_NO_HEALTHY_UPSTREAM');
  const line = await gw.waitForLog((l) => l.msg === 'Every target of the upstream is down' && l.upstream === 'down');
  t.match(String(line.reason), /upstream "down"/, 'the warn line names the upstream');
  await stillServing(t);
});

t.test('a target coming back: 503 while its health check fails, traffic returns once it passes', async (t) => {
  await until(async () => (await send(port, '/back/x')).status === 503, 'the down target is marked unhealthy');
  const refused = await send(port, '/back/x');
  await assertProblem(t, gw, refused, 503, 'ZTG_NO_HEALTHY_UPSTREAM');
  back = await rawServer((socket, head) => answer(socket, 200, head.startsWith('GET /healthz ') ? 'healthy' : 'back'), backPort);
  await until(async () => (await send(port, '/back/x')).status === 200, 'traffic returns after a passing health check');
  const res = await send(port, '/back/y');
  t.equal(res.body, 'back', 'served by the returned target');
  const probe = back.requests.find((h) => h.startsWith('GET /healthz HTTP/1.1'));
  t.ok(probe, 'the health check asked the configured path');
  t.match(probe!, /user-agent: ztgate-health/i, 'and says who it is');
  await stillServing(t);
});
