import t from 'tap';
import { freePort, rawRequest, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

t.test('rate-limit stage through the gateway: 429 with headers, monitor mode, other keys unaffected', async (t) => {
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const route = (name: string, path: string, stage: Record<string, unknown>) => ({
    name,
    match: { path },
    upstream: 'app',
    public: true,
    stages: [{ type: 'rate-limit', ...stage }],
  });
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      route('limited', '/limited/*', { headers: true, limits: [{ rate: '5/min', burst: 5, key: ['ip'] }] }),
      route('by-tenant', '/tenant/*', { limits: [{ rate: '2/min', burst: 2, key: ['header:x-tenant'] }] }),
      route('watched', '/watched/*', { mode: 'monitor', limits: [{ rate: '1/min', burst: 1, key: ['ip'] }] }),
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const get = (path: string, extra = '') => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`, 500, { untilResponse: true });

  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await get('/limited/x')).status);
  t.same(statuses, [200, 200, 200, 200, 200, 429], 'burst of 5 admitted, the 6th refused');
  const before = upstream.seen.length;
  const refused = await get('/limited/x');
  t.equal(refused.status, 429);
  t.equal(upstream.seen.length, before, 'a refused request never reaches the upstream');
  t.equal(refused.headers['content-type'], 'application/problem+json');
  t.match(JSON.parse(refused.body), { code: 'ZTG_RATE_LIMITED', status: 429 });
  t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After in seconds');
  t.match(refused.headers['ratelimit-policy'], /q=5/, 'RateLimit-Policy names the quota');
  t.match(refused.headers.ratelimit, /r=0/, 'RateLimit says nothing remains');
  await gw.waitForLog((l) => l.code === 'ZTG_RATE_LIMITED');

  t.equal((await get('/tenant/x', 'X-Tenant: a\r\n')).status, 200);
  t.equal((await get('/tenant/x', 'X-Tenant: a\r\n')).status, 200);
  t.equal((await get('/tenant/x', 'X-Tenant: a\r\n')).status, 429, 'tenant a is over its limit');
  t.equal((await get('/tenant/x', 'X-Tenant: b\r\n')).status, 200, 'tenant b has its own bucket');

  for (let i = 0; i < 3; i++) t.equal((await get('/watched/x')).status, 200, 'monitor mode never blocks');
});
