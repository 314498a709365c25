import t from 'tap';
import { freePort } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { parseExposition } from './exposition.js';
import { startAdminGateway, until } from './helpers.js';

/**
 * /metrics and /stats through two real gateway processes: the counts match
 * the requests sent exactly (each process's snapshot merged), the text is a
 * valid exposition, and a process that dies keeps its counts in the totals.
 */

t.setTimeout(240_000);

const API = 30;
const MISSES = 10;

t.test('merged exactly across two processes, kept across a crash', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const config = {
    listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [{ name: 'api', match: { path: '/api/*' }, upstream: 'app', public: true }],
  };
  const a = await startAdminGateway(config, { processes: 2 });
  t.teardown(() => a.gw.stop());

  // A fresh connection per request: the kernel spreads them over both processes.
  for (let i = 0; i < API; i++) t.equal((await fetch(`${a.gw.url}/api/item/${i}`, { headers: { connection: 'close' } })).status, 200);
  for (let i = 0; i < MISSES; i++) t.equal((await fetch(`${a.gw.url}/nowhere/${i}`, { headers: { connection: 'close' } })).status, 404);
  const pids = new Set(a.gw.logs().filter((l) => l.access === true).map((l) => l.pid));
  t.equal(pids.size, 2, 'both processes served requests');

  const scrape = async () => parseExposition((await a.call('/metrics')).body);
  // A request is counted as its exchange ends; poll until the last ones are in.
  const e = await until(scrape, (x) => x.get('ztgate_requests_total', { route: 'api', status: '200' }) === API && x.get('ztgate_requests_total', { route: '(none)', status: '404' }) === MISSES);
  t.equal(e.get('ztgate_requests_total', { route: 'api', status: '200' }), API, `${API} API requests counted once each`);
  t.equal(e.get('ztgate_requests_total', { route: '(none)', status: '404' }), MISSES, `${MISSES} misses`);
  t.equal(e.types.get('ztgate_request_duration_seconds'), 'summary');
  t.equal(e.get('ztgate_request_duration_seconds_count', { route: 'api' }), API, 'histogram counts merged exactly');
  t.equal(e.get('ztgate_gateway_duration_seconds_count', { route: 'api' }), API);
  t.equal(e.get('ztgate_upstream_duration_seconds_count', { upstream: 'app' }), API);
  for (const q of ['0.5', '0.9', '0.99', '0.999']) t.ok(e.get('ztgate_request_duration_seconds', { route: 'api', quantile: q })! > 0, `quantile ${q} present`);
  t.equal(e.get('ztgate_gateway_answers_total', { code: 'ZTG_ROUTE_NOT_FOUND' }), MISSES);
  t.equal(e.get('ztgate_processes_up'), 2);
  t.equal(e.get('ztgate_processes_configured'), 2);
  t.equal(e.get('ztgate_process_restarts_total'), 0);
  const slots = new Set(e.samples.filter((s) => s.name === 'ztgate_memory_bytes').map((s) => s.labels.process));
  t.same([...slots].sort(), ['0', '1'], 'gauges come per process');
  const metricsHead = await a.call('/metrics');
  t.equal(metricsHead.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');

  const stats = (await a.call('/stats')).json();
  t.equal(stats.totals.requests, API + MISSES);
  t.equal(stats.totals.status['2xx'], API);
  t.equal(stats.totals.status['4xx'], MISSES);
  t.equal(stats.totals.gatewayAnswers.ZTG_ROUTE_NOT_FOUND, MISSES);
  const api = stats.routes.find((r: { route: string }) => r.route === 'api');
  t.equal(api.requests, API);
  t.equal(api.upstream, 'app');
  t.equal(api.latency.total.count, API);
  t.equal(api.latency.gateway.count, API);
  t.ok(api.latency.gateway.p50 <= api.latency.total.p50, "the gateway's own time is part of the total");
  const app = stats.upstreams.find((u: { upstream: string }) => u.upstream === 'app');
  t.equal(app.latency.count, API);
  t.same(stats.top.routes[0], { name: 'api', requests: API });
  t.equal(stats.processes.listening, 2);
  t.type(stats.rates.requestsPerSec, 'number');

  // Kill one process outright: the supervisor restarts it; its counts stay.
  const victim = [...pids][0] as number;
  process.kill(victim, 'SIGKILL');
  await a.gw.waitForLog((l) => l.msg === 'gateway process exited; restarting' && l.gatewayPid === victim, 20_000);
  const after = await until(scrape, (x) => x.get('ztgate_processes_listening') === 2 && x.get('ztgate_process_restarts_total') === 1, 30_000);
  t.equal(after.get('ztgate_process_restarts_total'), 1, 'the restart is counted');
  t.equal(after.get('ztgate_requests_total', { route: 'api', status: '200' }), API, "the dead process's requests are still counted");
  t.equal(after.get('ztgate_request_duration_seconds_count', { route: 'api' }), API);
  t.equal((await fetch(`${a.gw.url}/api/again`)).status, 200, 'serving after the crash');
  const more = await until(scrape, (x) => x.get('ztgate_requests_total', { route: 'api', status: '200' }) === API + 1);
  t.equal(more.get('ztgate_requests_total', { route: 'api', status: '200' }), API + 1, 'and counting on');
  t.equal((await a.call('/ready')).status, 200, 'ready again');
});
