import t from 'tap';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

t.test('concurrency stage: beyond N in flight, 503 with Retry-After; slots come back', async (t) => {
  // The upstream holds /slow requests for 600 ms.
  const upstream = await startEchoUpstream((req, res) => {
    setTimeout(() => res.writeHead(200, { 'content-length': '2' }).end('ok'), req.url!.startsWith('/slow') ? 600 : 0);
  });
  const port = await freePort();
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      { name: 'slow', match: { path: '/slow/*' }, upstream: 'app', public: true, stages: [{ type: 'concurrency', max: 2, retryAfterSec: 3 }] },
      { name: 'other', match: { path: '/*' }, upstream: 'app', public: true },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const url = `http://127.0.0.1:${port}`;
  const first = await Promise.all([1, 2, 3].map((i) => fetch(`${url}/slow/${i}`)));
  const statuses = first.map((r) => r.status).sort();
  t.same(statuses, [200, 200, 503], 'two in flight, the third refused');
  const refused = first.find((r) => r.status === 503)!;
  t.equal(refused.headers.get('retry-after'), '3');
  t.equal(((await refused.json()) as { code: string }).code, 'ZTG_CONCURRENCY_LIMITED');
  t.equal((await fetch(`${url}/other`)).status, 200, 'other routes are not counted');
  const again = await Promise.all([1, 2].map((i) => fetch(`${url}/slow/again-${i}`)));
  t.same(again.map((r) => r.status), [200, 200], 'slots are released when requests finish');

  // A client that goes away releases its slot too.
  const aborted = new AbortController();
  const gone = fetch(`${url}/slow/gone`, { signal: aborted.signal }).catch(() => null);
  await new Promise((r) => setTimeout(r, 100));
  aborted.abort();
  await gone;
  await new Promise((r) => setTimeout(r, 100));
  const after = await Promise.all([1, 2].map((i) => fetch(`${url}/slow/after-${i}`)));
  t.same(after.map((r) => r.status), [200, 200], 'an aborted request released its slot');
});
