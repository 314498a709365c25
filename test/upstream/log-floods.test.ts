/**
 * Repeated operational warnings are logged once per interval with a count,
 * not once per request: every target down, and the ejection cap reached.
 */
import t from 'tap';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { freePort, startGateway } from '../helpers/gateway.js';

const failing = createServer((_req, res) => res.writeHead(500, { 'content-length': '4' }).end('fail'));
failing.listen(0, '127.0.0.1');
await once(failing, 'listening');
const failingPort = (failing.address() as { port: number }).port;
const [downA, downB, port] = [await freePort(), await freePort(), await freePort()];
const url = (p: number) => ({ url: `http://127.0.0.1:${p}` });
const gw = await startGateway({
  listeners: [{ name: 'main', host: '127.0.0.1', port }],
  upstreams: [
    { name: 'down', targets: [url(downA), url(downB)], outlierDetection: { consecutiveConnectFailures: 1, maxEjectedPercent: 100, baseEjectionMs: 600_000 } },
    { name: 'capped', targets: [url(failingPort)], outlierDetection: { consecutive5xx: 1, maxEjectedPercent: 0 }, circuitBreaker: { minRequests: 100000 } },
  ],
  routes: [
    { name: 'down', match: { path: '/down/*' }, upstream: 'down', public: true },
    { name: 'capped', match: { path: '/capped/*' }, upstream: 'capped', public: true },
  ],
});
t.teardown(async () => {
  await gw.stop();
  failing.close();
});

const lines = (msg: string) => gw.logs().filter((l) => l.msg === msg);
const counted = (msg: string) => lines(msg).reduce((n, l) => n + Number(l.count), 0);

async function burst(path: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 20) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, j) => fetch(`http://127.0.0.1:${port}${path}${i + j}`).then(async (r) => (await r.arrayBuffer(), r.status))))));
  }
  return out;
}

t.test('every target down: one warn line per interval with the count, each request still in the access log', async (t) => {
  await burst('/down/warm', 2); // both targets fail once: ejected
  const statuses = await burst('/down/x', 200);
  const refused = statuses.filter((s) => s === 503).length;
  t.ok(refused >= 190, `the burst is refused at once (${refused} of 200)`);
  const msg = 'Every target of the upstream is down';
  t.ok(lines(msg).length <= 3, `a few warn lines, not one per request (${lines(msg).length})`);
  await gw.waitForLog(() => counted(msg) === refused, 10_000);
  t.pass(`their counts add up to the ${refused} refused`);
  t.equal(lines(msg)[0].upstream, 'down', 'the line names the upstream');
  await gw.waitForLog(() => gw.logs().filter((l) => l.access === true && l.code === 'ZTG_NO_HEALTHY_UPSTREAM').length >= refused, 5000);
  t.pass('every refused request has its access line');
});

t.test('ejection cap reached on every 5xx: one warn line per interval with the count', async (t) => {
  const statuses = await burst('/capped/x', 100);
  t.equal(statuses.filter((s) => s === 500).length, 100, "the target's own answers pass: it is never ejected");
  const msg = 'upstream target not ejected: ejection cap reached';
  t.ok(lines(msg).length >= 1 && lines(msg).length <= 3, `a few warn lines (${lines(msg).length})`);
  await gw.waitForLog(() => counted(msg) >= 50 && counted(msg) <= 100, 10_000);
  t.pass(`counted: ${counted(msg)}`);
});
