import t from 'tap';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { WebhookSender } from '../../src/observe/webhook.js';
import { captureLog, harness, record } from './anomaly-helpers.js';

interface Received {
  body: string;
  signature: string | undefined;
}

/** A real HTTP receiver on loopback; `answer` decides each response (or holds it). */
async function receiver(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ body, signature: req.headers['x-ztgate-signature'] as string | undefined });
      answer(received.length, req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/ztgate`,
    received,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Polls until `pred` holds; the deadline only bounds a broken test, it is not what is tested. */
async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function verifies(secret: string, r: Received): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`);
  const got = Buffer.from(r.signature ?? '');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

t.test('an alert reaches the webhook signed with the configured secret, after a retry on 500', async (t) => {
  const hook = await receiver((n, _req, res) => void res.writeHead(n === 1 ? 500 : 204).end());
  t.teardown(hook.close);
  const secret = 'anomaly-hook-secret-0123456789abcdef';
  process.env.ZTG_TEST_ALERT_SECRET = secret;
  t.teardown(() => void delete process.env.ZTG_TEST_ALERT_SECRET);
  const h = harness({
    webhooks: [{ url: hook.url, secret: { env: 'ZTG_TEST_ALERT_SECRET' }, backoffMs: 10 }],
    rules: [{ name: 'scan', kind: 'not-found', threshold: 3, action: { type: 'block', durationMs: 60_000 } }],
  });
  t.teardown(() => h.detector.close());
  h.feed(3, 1000, (i) => record({ clientAddress: `198.51.100.${i}`, status: 404 }));
  await until(() => h.detector.webhooks[0].delivered === 1, 'the delivery');
  t.equal(hook.received.length, 2, 'the first attempt got a 500, the second was accepted');
  t.equal(hook.received[0].body, hook.received[1].body, 'the retry sends the same event');
  t.equal(h.detector.webhooks[0].retries, 1);
  for (const r of hook.received) t.ok(verifies(secret, r), 'x-ztgate-signature verifies');
  t.notOk(verifies('another-secret', hook.received[1]), 'and only with that secret');
  const event = JSON.parse(hook.received[1].body) as Record<string, unknown>;
  t.match(event, {
    type: 'anomaly',
    kind: 'not-found',
    rule: 'scan',
    subject: 'network:198.51.100.0/24',
    observed: 3,
    baseline: null,
    threshold: 3,
    action: { type: 'block', durationMs: 60_000 },
    detail: /^not-found on network:198\.51\.100\.0\/24: 3 per 60 s \(threshold 3\); blocked for 60 s \[rule scan\]$/,
    time: new Date(h.clock.now - 1000 + 666).toISOString(),
  });
});

t.test('a receiver that keeps failing: N attempts, then the alert is dropped with a log line; the next one still goes', async (t) => {
  let failing = true;
  const hook = await receiver((_n, _req, res) => void res.writeHead(failing ? 503 : 200).end('ok'));
  t.teardown(hook.close);
  const { log, lines } = captureLog();
  const sender = new WebhookSender({ url: hook.url, secret: 's', attempts: 3, backoffMs: 5 }, log);
  sender.send({ n: 1 });
  await until(() => sender.dropped === 1, 'the drop');
  t.equal(hook.received.length, 3, 'exactly three attempts');
  t.equal(sender.delivered, 0);
  t.match(lines, [{ level: 50, webhook: hook.url, msg: 'alert webhook failed after 3 attempts; alert dropped' }]);
  failing = false;
  sender.send({ n: 2 });
  await until(() => sender.delivered === 1, 'the next delivery');
  t.same(JSON.parse(hook.received[3].body), { n: 2 });
});

t.test('a receiver that never answers blocks nothing: send returns at once, the queue is bounded, close drops it', async (t) => {
  const held: ServerResponse[] = [];
  const hook = await receiver((_n, _req, res) => void held.push(res));
  t.teardown(hook.close);
  const sender = new WebhookSender({ url: hook.url, attempts: 2, backoffMs: 5, timeoutMs: 200, maxQueued: 10 }, null);
  for (let i = 0; i < 1000; i++) sender.send({ i });
  // Still inside this turn of the event loop: nothing was written yet, all of it returned.
  t.equal(hook.received.length, 0, 'no send waited for the network');
  t.equal(sender.queued, 10, 'one taken for delivery, ten waiting');
  t.equal(sender.dropped, 989, 'the rest dropped, not buffered');
  await until(() => hook.received.length >= 1, 'the first attempt to arrive');
  sender.close();
  t.equal(sender.queued, 0, 'close empties the queue');
  await until(() => sender.dropped === 1000, 'the held delivery to time out');
  t.equal(sender.delivered, 0);
  sender.send({ late: true });
  t.equal(sender.queued, 0, 'a closed sender takes nothing');
});

t.test('the quota alerts\' construction still works (defaults: 4 attempts)', async (t) => {
  const hook = await receiver((n, _req, res) => void res.writeHead(n < 4 ? 500 : 200).end());
  t.teardown(hook.close);
  const sender = new WebhookSender({ url: hook.url, backoffMs: 1 }, null);
  sender.send({ type: 'quota' });
  await until(() => sender.delivered === 1, 'delivery on the fourth attempt');
  t.equal(hook.received.length, 4);
  t.equal(hook.received[0].signature, undefined, 'no secret, no signature');
});
