import t from 'tap';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

t.test('inspection pool: a scan that overruns its time is cut, answered (closed or open), and the pool keeps working', async (t) => {
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const route = (name: string, path: string, stage: Record<string, unknown>) => ({
    name,
    match: { path },
    upstream: 'app',
    public: true,
    maxBodyBytes: 16 * 1024 * 1024,
    stages: [{ type: 'inspect', maxInspectBytes: 16 * 1024 * 1024, ...stage }],
  });
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      route('closed', '/closed/*', { timeoutMs: 10 }),
      route('open', '/open/*', { timeoutMs: 10, failOpen: true }),
      route('normal', '/normal/*', {}),
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  // ~6 MB of JSON strings: far more than 10 ms of scanning in a worker.
  const big = JSON.stringify({ items: Array.from({ length: 60_000 }, (_, i) => `item ${i} lorem ipsum dolor sit amet consectetur adipiscing elit sed do`) });
  const post = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });

  const seen = upstream.seen.length;
  let res = await post('/closed/x');
  t.equal(res.status, 503, 'fail closed: the request is answered 503');
  t.equal(((await res.json()) as { code: string }).code, 'ZTG_INSPECTION_FAILED');
  t.equal(upstream.seen.length, seen, 'and never forwarded');
  await gw.waitForLog((l) => l.msg === 'inspection worker failed');

  res = await post('/open/x');
  t.equal(res.status, 200, 'fail open: the request passes');

  res = await fetch(`http://127.0.0.1:${port}/normal/x`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filler: 'lorem ipsum '.repeat(3000), q: "1' UNION SELECT password FROM users --" }),
  });
  t.equal(res.status, 403, 'the pool still scans after a cut task (replaced worker)');
});
