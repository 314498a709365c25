import t from 'tap';
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

/**
 * End to end through a real gateway process: credential stuffing from one
 * network raises one alert (log line, signed webhook) and blocks that network
 * with 403 ZTG_BLOCKED, while a client elsewhere keeps being served; a 404
 * scan raises its own alert, and so does the consumer coming from a network
 * it never used.
 */
t.test(
  'alerts through a gateway: stuffing → one alert, a signed webhook and a block of that network; scanning → an alert; a consumer from a new network → an alert; others keep being served',
  async (t) => {
    const received: { body: string; signature: string | undefined }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ body, signature: req.headers['x-ztgate-signature'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    hook.listen(0, '127.0.0.1');
    await once(hook, 'listening');
    const upstream = await startEchoUpstream();
    const port = await freePort();
    const apiKey = 'zk_e2e_anomaly_0123456789abcdef';
    const secret = 'e2e-alert-hook-secret-0123456789';
    const gw = await startGateway(
      {
        listeners: [{ name: 'main', host: '127.0.0.1', port }],
        upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
        // The test's clients all come from loopback: X-Forwarded-For gives each its own network.
        trustedProxies: ['127.0.0.1'],
        identity: { consumers: [{ name: 'acme', environment: 'prod', apiKeys: [{ sha256: createHash('sha256').update(apiKey).digest('hex') }] }] },
        routes: [
          { name: 'api', match: { path: '/api/*' }, upstream: 'app', stages: [{ type: 'identity', environment: 'prod', methods: [{ apiKey: {} }] }] },
          { name: 'open', match: { path: '/open/*' }, upstream: 'app', public: true },
        ],
        alerts: {
          webhooks: [{ url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`, secret: { env: 'ZTG_E2E_ALERT_SECRET' }, backoffMs: 20 }],
          rules: [
            { name: 'stuffing', kind: 'auth-failures', threshold: 5, action: { type: 'block', durationMs: 600_000 } },
            { name: 'scan', kind: 'not-found', threshold: 5 },
            // A warm-up of 1 ms: what acme uses on its first request is its baseline.
            { name: 'new-net', kind: 'new-network', warmupMs: 1 },
          ],
        },
      },
      { env: { ZTG_E2E_ALERT_SECRET: secret } },
    );
    t.teardown(async () => {
      await gw.stop();
      await upstream.close();
      hook.closeAllConnections();
      hook.close();
    });
    const get = (path: string, from: string, key?: string) =>
      fetch(`${gw.url}${path}`, { headers: { 'x-forwarded-for': from, ...(key ? { 'x-api-key': key } : {}) } });

    t.equal((await get('/api/orders', '198.51.100.7', apiKey)).status, 200, 'a good client before');
    for (let i = 1; i <= 5; i++) t.equal((await get('/api/orders', `203.0.113.${i}`, `zk_guess_${i}`)).status, 401, `guess ${i}`);
    const line = await gw.waitForLog((l) => l.alert === 'auth-failures');
    t.match(line, { level: 40, rule: 'stuffing', subject: 'network:203.0.113.0/24', observed: 5, threshold: 5, action: 'block', msg: /^anomaly alert: auth-failures on network:203\.0\.113\.0\/24/ });

    const blocked = await get('/api/orders', '203.0.113.99', apiKey);
    t.equal(blocked.status, 403, 'the right key from the blocked network: refused');
    t.ok(Number(blocked.headers.get('retry-after')) > 0, 'with Retry-After');
    t.match(await blocked.json(), { code: 'ZTG_BLOCKED', status: 403 });
    const refusal = await gw.waitForLog((l) => JSON.stringify(l).includes('ZTG_BLOCKED'));
    t.match(JSON.stringify(refusal), /network:203\.0\.113\.0\/24 blocked by alert rule \\"stuffing\\"/, 'the refusal is logged with its reason');
    t.equal((await get('/open/page', '203.0.113.42')).status, 403, 'a public route too: the block comes before any stage');
    t.equal((await get('/open/page', '198.51.100.7')).status, 200, 'the public route still serves other networks');
    t.equal((await get('/api/orders', '198.51.100.7', apiKey)).status, 200, 'the good client after: still served');

    for (let i = 1; i <= 5; i++) t.equal((await get(`/scan/${i}.php`, `192.0.2.${i}`)).status, 404);
    t.match(await gw.waitForLog((l) => l.alert === 'not-found'), { rule: 'scan', subject: 'network:192.0.2.0/24' });
    t.equal((await get('/api/orders', '198.51.100.7', apiKey)).status, 200, 'and after the scan');

    t.equal((await get('/api/orders', '192.0.2.50', apiKey)).status, 200, 'acme from a network it never used: served');
    t.match(await gw.waitForLog((l) => l.alert === 'new-network'), { subject: 'consumer:acme', observed: '192.0.2.0/24', baseline: '198.51.100.0/24' });
    t.equal((await get('/api/orders', '192.0.2.51', apiKey)).status, 200);

    const deadline = Date.now() + 10_000;
    while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.equal(received.length, 3, 'every alert POSTed');
    for (const r of received) t.equal(r.signature, `sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`, 'signed with the configured secret');
    t.same(
      received.map((r) => (JSON.parse(r.body) as { kind: string }).kind),
      ['auth-failures', 'not-found', 'new-network'],
    );
    t.equal(gw.logs().filter((l) => typeof l.alert === 'string').length, 3, 'one alert per incident');
    t.notOk(gw.output().includes(apiKey), 'the key never reaches the log');
  },
);
