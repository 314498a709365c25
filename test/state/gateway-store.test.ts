import t from 'tap';
import { basicConfig, freePort, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { startRedis } from './redis-server.js';
import { startFakeStore } from './fake-stores.js';

const reachable = (l: Record<string, unknown>) => typeof l.msg === 'string' && l.msg.startsWith('state store reachable');

function configFor(port: number, upstreamPort: number, url: string, quota: string, extra: Record<string, unknown> = {}) {
  return {
    ...basicConfig(port, upstreamPort, {
      stages: [{ type: 'rate-limit', headers: true, limits: [{ name: 'burst', rate: '1000/s', key: ['route'] }, { name: 'quota', rate: quota, key: ['route'] }] }],
    }),
    state: { redis: { url, keyPrefix: 'gw-test:', timeoutMs: 200 }, ...extra },
  };
}

async function send(gw: RunningGateway, n: number, concurrency = 1): Promise<{ statuses: number[]; slowestMs: number }> {
  const statuses: number[] = [];
  let slowestMs = 0;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const started = performance.now();
      const res = await fetch(`${gw.url}/q`);
      await res.arrayBuffer();
      slowestMs = Math.max(slowestMs, performance.now() - started);
      statuses.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { statuses, slowestMs };
}
const count = (xs: number[], status: number) => xs.filter((s) => s === status).length;

t.test('a quota in the store survives a restart of one gateway and of every gateway', async (t) => {
  const redis = await startRedis();
  const upstream = await startEchoUpstream();
  t.teardown(async () => {
    await upstream.close();
    await redis.stop();
  });
  const [pa, pb] = [await freePort(), await freePort()];
  const start = async (port: number) => {
    const gw = await startGateway(configFor(port, upstream.port, redis.url, '20/h'));
    await gw.waitForLog(reachable);
    return gw;
  };
  let a = await start(pa);
  let b = await start(pb);
  const paths = a.logs().find((l) => Array.isArray(l.paths))?.paths;
  t.same(paths, [{ limit: 'burst', path: 'gateway' }, { limit: 'quota', path: 'store' }], 'each limit says where it is decided');
  t.equal(count((await send(a, 6)).statuses, 200), 6);
  t.equal(count((await send(b, 6)).statuses, 200), 6, 'the two gateways share the quota: 12 of 20 spent');
  await a.stop();
  a = await start(pa);
  t.equal(count((await send(a, 4)).statuses, 200), 4, 'a restarted gateway goes on from 12 spent');
  await a.stop();
  await b.stop();
  a = await start(pa);
  b = await start(pb);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  const after = [...(await send(a, 6)).statuses, ...(await send(b, 6)).statuses];
  t.equal(count(after, 200), 4, 'after every gateway restarted, only the 4 left of 20 are admitted');
  t.equal(count(after, 429), 8);
  const refused = await fetch(`${a.url}/q`);
  t.equal(refused.status, 429);
  t.match(refused.headers.get('ratelimit-policy') ?? '', /"quota";q=20;w=3600/);
});

t.test('the store killed under load: no request waits past timeoutMs, the fallback admits its share, the store catches up', async (t) => {
  const redis = await startRedis();
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const gw = await startGateway(configFor(port, upstream.port, redis.url, '40/h', { fallbackShare: 0.5 }));
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
    await redis.stop();
  });
  await gw.waitForLog(reachable);
  t.equal(count((await send(gw, 10, 4)).statuses, 200), 10);
  // Killed while requests are in flight.
  const load = send(gw, 60, 6);
  await new Promise((r) => setTimeout(r, 20));
  await redis.kill();
  const during = await load;
  t.same([...new Set(during.statuses)].sort(), [200, 429], 'every request answered 200 or 429');
  // timeoutMs is 200; the bound leaves room for a loaded machine, not for a wait on a dead store.
  t.ok(during.slowestMs < 200 + 1500, `slowest request ${during.slowestMs.toFixed(0)} ms`);
  const admittedDuring = count(during.statuses, 200);
  // Before the kill the store may still have admitted up to its 30 left; after it the fallback at most 20.
  t.ok(admittedDuring <= 30 + 20, `admitted ${admittedDuring} during the outage`);
  const later = await send(gw, 40, 4);
  t.ok(count(later.statuses, 200) + admittedDuring <= 30 + 20, 'the fallback bucket holds: no more than its share in all');
  await gw.waitForLog((l) => l.code === 'ZTG_STATE_UNAVAILABLE');
  // Back, empty: the fallback's hits are charged first, so the quota is not handed out afresh.
  await redis.start();
  await gw.waitForLog((l) => reachable(l) && gw.logs().filter(reachable).length >= 2, 15_000);
  await gw.waitForLog((l) => typeof l.units === 'number');
  const back = await send(gw, 60, 4);
  const owed = gw.logs().find((l) => typeof l.units === 'number')!.units as number;
  t.ok(owed > 0 && owed <= 20, `${owed} fallback hits charged to the store, at most the fallback's share of 20`);
  t.equal(count(back.statuses, 200), Math.max(0, 40 - owed), 'after the store returns, the quota less what the fallback admitted');
});

t.test('a store that is the wrong version: the gateway says so and serves on the fallback', async (t) => {
  const fake = await startFakeStore('old');
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const gw = await startGateway(configFor(port, upstream.port, fake.url, '10/h', { fallbackShare: 0.5 }));
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
    fake.close();
  });
  const line = await gw.waitForLog((l) => l.code === 'ZTG_STATE_UNAVAILABLE');
  t.match(String(line.reason), /ZTG_STATE_WRONG_VERSION.*6\.2\.14/);
  const { statuses } = await send(gw, 10, 2);
  t.equal(count(statuses, 200), 5, 'half the quota on the fallback');
  t.equal(count(statuses, 429), 5);
});
