import t from 'tap';
import { request } from 'node:http';
import { freePort } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { startAdminGateway, until } from './helpers.js';

/**
 * Alerts raised in a gateway process reach the supervisor over IPC (message
 * `alert`), land in its ring, show in /stats and are pushed to dashboards as
 * an `alert` event.
 */
t.setTimeout(180_000);

t.test('a 404 scan alert reaches /stats and the event stream', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const a = await startAdminGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    trustedProxies: ['127.0.0.1'],
    routes: [{ name: 'api', match: { path: '/api/*' }, upstream: 'app', public: true }],
    alerts: { rules: [{ name: 'scan', kind: 'not-found', threshold: 5 }] },
  });
  t.teardown(() => a.gw.stop());

  // Listen to the dashboard's stream first, with the token in the query as EventSource sends it.
  const events: string[] = [];
  const stream = request({ host: '127.0.0.1', port: a.adminPort, path: `/events?token=${encodeURIComponent(a.token)}` });
  stream.on('response', (res) => res.on('data', (c: Buffer) => events.push(c.toString())));
  stream.on('error', () => {});
  stream.end();
  t.teardown(() => stream.destroy());

  for (let i = 1; i <= 5; i++) {
    const r = await fetch(`${a.gw.url}/scan/${i}.php`, { headers: { 'x-forwarded-for': `192.0.2.${i}` } });
    t.equal(r.status, 404);
  }
  const stats = await until(
    async () => (await a.call('/stats')).json(),
    (s) => s.alerts.length > 0,
  );
  t.match(stats.alerts[0], { kind: 'not-found', subject: 'network:192.0.2.0/24' });
  const pushed = await until(
    async () => events.join(''),
    (s) => s.includes('event: alert'),
  );
  t.match(pushed, /event: alert\ndata: \{"kind":"not-found"/);
  t.equal((await fetch(`${a.gw.url}/api/fine`)).status, 200, 'still serving');
});
