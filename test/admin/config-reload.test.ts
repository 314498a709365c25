import t from 'tap';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { freePort } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { startAdminGateway } from './helpers.js';

/**
 * /ready, /config with secrets redacted, and POST /reload: a bad file is
 * reported (422) and the old config keeps serving; a good one is applied by
 * every process and reported with its generation.
 */

t.setTimeout(180_000);

const WEBHOOK_ENV = 'ZTGATE_TEST_WEBHOOK_SECRET';
const INLINE_CREDENTIAL = 'inline-upstream-credential-7f3a';
const HOOK_PATH_SECRET = 'T0PSECRETHOOKPATH';

function config(port: number, upstreamPort: number, routeName: string) {
  return {
    listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstreamPort}` }] }],
    routes: [
      {
        name: routeName,
        match: { path: '/*' },
        upstream: 'app',
        public: true,
        stages: [
          { type: 'headers', request: { set: { 'x-upstream-auth': INLINE_CREDENTIAL } } },
          {
            type: 'rate-limit',
            limits: [{ rate: '1000/s' }],
            alerts: { at: [80], webhook: { url: `https://hooks.example.com/services/${HOOK_PATH_SECRET}`, secret: { env: WEBHOOK_ENV } } },
          },
        ],
      },
    ],
  };
}

t.test('ready, redacted config, reload bad then good', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const a = await startAdminGateway(config(port, upstream.port, 'first'), { processes: 2, env: { [WEBHOOK_ENV]: 'webhook-hmac-secret-value' } });
  t.teardown(() => a.gw.stop());

  const ready = await a.call('/ready');
  t.equal(ready.status, 200);
  t.match(ready.json(), { ready: true, configured: 2, listening: 2 });

  const shown = await a.call('/config');
  t.equal(shown.status, 200);
  const text = shown.body;
  for (const secret of [INLINE_CREDENTIAL, HOOK_PATH_SECRET, WEBHOOK_ENV, 'webhook-hmac-secret-value', a.token]) {
    t.notOk(text.includes(secret), `/config does not show ${secret.slice(0, 12)}…`);
  }
  t.equal(shown.json().generation, 0, 'the generation it runs');
  const routes = shown.json().config.routes;
  t.equal(routes[0].name, 'first', 'the rest of the config is there');
  t.equal(routes[0].stages.find((s: { type: string }) => s.type === 'headers').request.set['x-upstream-auth'], '[redacted]');

  // Hostile: a broken file. Reported, nothing swapped, the old config serves.
  writeFileSync(a.gw.configPath, 'listeners: [ {name: main, port: "not a port"\nroutes: {');
  const bad = await a.call('/reload', { method: 'POST' });
  t.equal(bad.status, 422, 'an invalid config is refused with 422');
  t.match(bad.json(), { outcome: 'rejected', generation: 0 });
  t.type(bad.json().error, 'string');
  await a.gw.waitForLog((l) => l.msg === 'admin API: new config rejected; the old one keeps serving');
  writeFileSync(a.gw.configPath, stringify({ ...config(port, upstream.port, 'first'), routes: [{ name: 'x', match: { path: '/*' }, upstream: 'missing', public: true }] }));
  const dangling = await a.call('/reload', { method: 'POST' });
  t.equal(dangling.status, 422, 'a config naming an unknown upstream is refused too');
  t.match(dangling.json().error, /missing/);
  t.equal((await fetch(`${a.gw.url}/still`)).status, 200, 'the old config keeps serving');
  t.equal(upstream.seen.at(-1)?.headers['x-upstream-auth'], INLINE_CREDENTIAL, 'with its stages');
  t.equal((await a.call('/reload')).status, 405, 'GET /reload is not a reload');

  // A good file: applied by both processes, reported with its generation.
  writeFileSync(a.gw.configPath, stringify(config(port, upstream.port, 'second')));
  const good = await a.call('/reload', { method: 'POST' });
  t.equal(good.status, 200);
  t.match(good.json(), { outcome: 'applied', generation: 1 });
  t.equal(good.json().processes.length, 2, 'both processes answered');
  t.ok(good.json().processes.every((p: { ok: boolean }) => p.ok));
  const after = (await a.call('/config')).json();
  t.equal(after.config.routes[0].name, 'second', '/config shows the running config');
  t.ok(after.generation >= 1, 'and its new generation');
  t.equal((await fetch(`${a.gw.url}/now`)).status, 200);
  const stats = (await a.call('/stats')).json();
  t.equal(stats.processes.configGeneration, 1);
  const metrics = (await a.call('/metrics')).body;
  t.match(metrics, /^ztgate_config_reloads_total\{outcome="rejected"\} 2$/m);
  t.match(metrics, /^ztgate_config_reloads_total\{outcome="applied"\} 1$/m);
});
