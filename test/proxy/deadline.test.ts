/**
 * One deadline per exchange, retries included, and a retry goes to another
 * target unless the upstream allows the same one (retries.sameTarget). Real
 * gateway, raw TCP upstreams that hang, reset or answer by script.
 */
import t from 'tap';
import { request } from 'node:http';
import { freePort, startGateway } from '../helpers/gateway.js';
import { okAnswer, scriptedUpstream } from '../helpers/scripted-upstream.js';

interface Answer {
  status: number;
  body: string;
  ms: number;
}

function get(port: number, path: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('close', () => resolve({ status: res.statusCode!, body, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Answers /warm (so its keep-alive socket is pooled), never answers anything else.
const hang = await scriptedUpstream((req, s) => {
  if (req.target.endsWith('/warm')) s.write(okAnswer());
});
const hangB = await scriptedUpstream(() => {});
// Resets every request it reads.
const reset = await scriptedUpstream((_req, s) => s.resetAndDestroy());

const timeouts = { connectMs: 1000, firstByteMs: 1000, idleMs: 1000 };
const port = await freePort();
const gw = await startGateway({
  listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
  upstreams: [
    { name: 'one', targets: [{ url: `http://127.0.0.1:${hang.port}` }], timeouts },
    { name: 'two', targets: [{ url: `http://127.0.0.1:${hang.port}` }, { url: `http://127.0.0.1:${hangB.port}` }], timeouts: { ...timeouts, totalMs: 1500 } },
    { name: 'resetOne', targets: [{ url: `http://127.0.0.1:${reset.port}` }], timeouts },
    { name: 'resetSame', targets: [{ url: `http://127.0.0.1:${reset.port}` }], timeouts, retries: { attempts: 1, sameTarget: true } },
  ],
  routes: [
    { name: 'one', match: { path: '/one/*' }, upstream: 'one', public: true },
    { name: 'two', match: { path: '/two/*' }, upstream: 'two', public: true },
    { name: 'resetOne', match: { path: '/resetOne/*' }, upstream: 'resetOne', public: true },
    { name: 'resetSame', match: { path: '/resetSame/*' }, upstream: 'resetSame', public: true },
  ],
});
t.teardown(async () => {
  await gw.stop();
  for (const u of [hang, hangB, reset]) await u.close();
});

const accessOf = (path: string) => gw.waitForLog((l) => l.access === true && l.path === path);

t.test('one target that never answers, firstByteMs 1000: 504 after about 1 s, the request sent once', async (t) => {
  const warm = await get(port, '/one/warm');
  t.equal(warm.status, 200, 'a first answer leaves a keep-alive socket in the pool');
  const res = await get(port, '/one/x');
  t.equal(res.status, 504);
  t.match(res.body, /ZTG_UPSTREAM_TIMEOUT/);
  t.ok(res.ms < 1800, `answered within the deadline, not after a second try (${res.ms.toFixed(0)} ms)`);
  t.equal(hang.requests.filter((r) => r.target === '/one/x').length, 1, 'the upstream saw the request once (a timeout is never replayed)');
  const line = await accessOf('/one/x');
  t.equal(line.status, 504);
  t.equal(typeof line.budgetLeftMs, 'number', 'the access line reports the budget left');
});

t.test('two hanging targets, totalMs 1500: the retry goes to the other target and the deadline bounds both', async (t) => {
  const res = await get(port, '/two/x');
  t.equal(res.status, 504);
  t.ok(res.ms < 2400, `the deadline held across the retry (${res.ms.toFixed(0)} ms, two full tries would be 2000+)`);
  const seen = [hang, hangB].map((u) => u.requests.filter((r) => r.target === '/two/x').length);
  t.same(seen, [1, 1], 'each target saw the request once');
  const line = await accessOf('/two/x');
  t.equal(line.budgetLeftMs, 0, 'no budget left');
});

t.test('one target resetting: not retried on it; with retries.sameTarget it is, once', async (t) => {
  const a = await get(port, '/resetOne/x');
  t.equal(a.status, 502);
  t.equal(reset.requests.filter((r) => r.target === '/resetOne/x').length, 1, 'sent once: no other target');
  const b = await get(port, '/resetSame/x');
  t.equal(b.status, 502);
  t.equal(reset.requests.filter((r) => r.target === '/resetSame/x').length, 2, 'sent twice: retried on the same target, as allowed');
});
