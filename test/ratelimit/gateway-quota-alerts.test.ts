import t from 'tap';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

t.test('quota alerts at 80% and 100%: log lines and an HMAC-signed webhook, once per window', async (t) => {
  const received: { body: string; signature: string | undefined }[] = [];
  let failFirst = true;
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      // The first delivery fails: the sender must retry.
      if (failFirst) {
        failFirst = false;
        return void res.writeHead(500).end();
      }
      received.push({ body, signature: req.headers['x-ztgate-signature'] as string | undefined });
      res.writeHead(204).end();
    });
  });
  hook.listen(0, '127.0.0.1');
  await once(hook, 'listening');
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const secret = 'quota-webhook-secret-0123456789';
  const gw = await startGateway(
    {
      listeners: [{ name: 'main', host: '127.0.0.1', port }],
      upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
      routes: [
        {
          name: 'metered',
          match: { path: '/metered/*' },
          upstream: 'app',
          public: true,
          stages: [
            {
              type: 'rate-limit',
              limits: [{ name: 'daily', rate: '5/day', burst: 5, key: ['ip'] }],
              alerts: { at: [80, 100], webhook: { url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`, secret: { env: 'QUOTA_HOOK_SECRET' } } },
            },
          ],
        },
      ],
    },
    { env: { QUOTA_HOOK_SECRET: secret } },
  );
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
    hook.close();
  });
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) statuses.push((await fetch(`http://127.0.0.1:${port}/metered/x`)).status);
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429]);
  await gw.waitForLog((l) => l.type === 'quota' && l.percent === 80);
  await gw.waitForLog((l) => l.type === 'quota' && l.percent === 100);
  const deadline = Date.now() + 8000;
  while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(received.length, 2, 'two alerts delivered (the first after a retry), none for the refused requests');
  for (const r of received) {
    t.equal(r.signature, `sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`, 'signed with the configured secret');
  }
  t.same(received.map((r) => (JSON.parse(r.body) as { percent: number }).percent), [80, 100]);
  t.notMatch(received[0].body, /127\.0\.0\.1/, 'the key (a client address) is not sent in clear');
  t.equal(gw.logs().filter((l) => l.type === 'quota').length, 2, 'once per threshold and window');
});
