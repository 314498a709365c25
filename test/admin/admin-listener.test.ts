/**
 * The admin listener under idle unauthenticated connections (the operator
 * still gets in), its warning when bound off loopback, and /config redacted
 * by the schema's secrets, with the config generation.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { freePort } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { startAdminGateway } from './helpers.js';

const upstream = await startEchoUpstream();
t.teardown(() => upstream.close());
const HEADER_CREDENTIAL = 'inline-credential-9c1e';

async function gateway(env: Record<string, string> = {}) {
  const port = await freePort();
  return startAdminGateway(
    {
      listeners: [{ name: 'main', host: '127.0.0.1', port }],
      upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
      alerts: { maxKeys: 5000 },
      routes: [
        {
          name: 'r',
          match: { path: '/*' },
          upstream: 'app',
          public: true,
          stages: [
            { type: 'rate-limit', limits: [{ name: 'daily', rate: '100/day', burst: 20, key: ['header:x-tenant'] }], alerts: { at: [80], webhook: { url: 'https://hooks.example.com/x', secret: { env: 'HOOK_SECRET_ENV' } } } },
            { type: 'headers', request: { set: { 'x-upstream-credential': HEADER_CREDENTIAL, 'x-env': 'prod' } } },
          ],
        },
      ],
    },
    { env: { HOOK_SECRET_ENV: 'hook-secret-value', ...env } },
  );
}

t.test('300 idle unauthenticated connections: /health still answers the operator at once, and the idle ones are closed', async (t) => {
  const a = await gateway();
  t.teardown(() => a.gw.stop());
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < 300; i++) {
    const s = connect(a.adminPort, '127.0.0.1');
    s.on('error', () => {});
    s.on('close', () => closed++);
    sockets.push(s);
  }
  await Promise.all(sockets.map((s) => (s.connecting ? once(s, 'connect').catch(() => {}) : null)));
  await new Promise((r) => setTimeout(r, 200));
  const health = await a.call('/health');
  t.equal(health.status, 200, 'the first try gets in');
  const end = Date.now() + 10_000;
  while (closed < 300 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  t.equal(closed, 300, 'every idle unauthenticated connection was closed');
  const lines = a.gw.logs().filter((l) => l.msg === 'admin: unauthenticated connections closed');
  t.ok(lines.length >= 1 && lines.length <= 6, `logged as a count, not per connection (${lines.length} lines)`);
  for (const s of sockets) s.destroy();
});

t.test('/config: secrets by the schema hidden, settings shown, with the generation', async (t) => {
  const a = await gateway();
  t.teardown(() => a.gw.stop());
  const res = await a.call('/config');
  t.equal(res.status, 200);
  const body = res.json();
  t.equal(body.generation, 0, 'the generation it runs');
  const [limit, headers] = body.config.routes[0].stages;
  t.same(limit.limits[0].key, ['header:x-tenant'], "a limit's key is a setting, shown");
  t.equal(body.config.alerts.maxKeys, 5000, 'alerts.maxKeys shown');
  t.equal(limit.alerts.webhook.secret, '[redacted]', 'a secret reference hidden');
  t.equal(headers.request.set['x-upstream-credential'], '[redacted]', 'a header value set inline (writeOnly) hidden');
  t.notOk(res.body.includes(HEADER_CREDENTIAL));
  t.notOk(res.body.includes('HOOK_SECRET_ENV'), 'nor the name of the variable');
  t.notOk(res.body.includes(a.token), 'nor the admin token');
  t.notOk(res.body.includes('hook-secret-value'), 'nor its value');
});

t.test('bound to a non-loopback address: a warning at start', async (t) => {
  const a = await gateway({ ZTGATE_ADMIN_ADDR: '0.0.0.0' });
  t.teardown(() => a.gw.stop());
  const line = await a.gw.waitForLog((l) => l.level === 40 && String(l.msg).startsWith('admin listener bound to a non-loopback address'));
  t.match(String(line.msg), /TLS in front|127\.0\.0\.1/);
});
