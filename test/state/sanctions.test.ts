import t from 'tap';
import pino from 'pino';
import { Metrics } from '../../src/core/metrics.js';
import { Sanctions } from '../../src/observe/anomaly/sanctions.js';
import { StateStore } from '../../src/state/store.js';
import { parseSanction } from '../../src/state/sanction-relay.js';
import { redisCommand, startRedis } from './redis-server.js';

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function member(url: string) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const store = new StateStore({ redis: { url, keyPrefix: 'sanction-test:', timeoutMs: 200 } }, log, new Metrics(), 1);
  store.start();
  const sanctions = new Sanctions();
  sanctions.share(store.sanctionRelay());
  return { store, sanctions, lines };
}

t.test('parseSanction refuses what is not a sanction', async (t) => {
  const now = 1_000_000;
  t.ok(parseSanction(JSON.stringify({ subject: 'consumer:a', type: 'block', until: now + 1000, rule: 'r' }), now));
  t.equal(parseSanction('{not json', now), null);
  t.equal(parseSanction(JSON.stringify({ subject: 'user:a', type: 'block', until: now + 1000, rule: 'r' }), now), null, 'unknown subject kind');
  t.equal(parseSanction(JSON.stringify({ subject: 'consumer:a', type: 'block', until: now - 1, rule: 'r' }), now), null, 'expired');
  t.equal(parseSanction(JSON.stringify({ subject: 'consumer:a', type: 'block', until: now + 2 * 86_400_000, rule: 'r' }), now), null, 'longer than a day');
  t.equal(parseSanction(JSON.stringify({ subject: 'consumer:a', type: 'tighten', factor: 1e6, until: now + 1000, rule: 'r' }), now), null, 'factor out of range');
});

t.test('a sanction raised in one process holds in another within a second, and in one started later', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const a = member(redis.url);
  const b = member(redis.url);
  t.teardown(() => (a.store.close(), b.store.close()));
  await until(() => a.store.usable && b.store.usable, 'both connected');
  // The subscriber connection is made at share(); give it a moment to be subscribed.
  await new Promise((r) => setTimeout(r, 200));
  a.sanctions.impose('consumer:alice', { type: 'block', durationMs: 60_000 }, 'too-many-401');
  a.sanctions.impose('network:203.0.113.0/24', { type: 'tighten', factor: 4, durationMs: 60_000 }, 'spike');
  const raised = Date.now();
  await until(() => b.sanctions.blockedConsumer('alice') !== null, 'the block in the other process', 5000);
  t.ok(Date.now() - raised < 1000, `held elsewhere after ${Date.now() - raised} ms`);
  const block = b.sanctions.blockedConsumer('alice')!;
  t.equal(block.rule, 'too-many-401');
  t.ok(Math.abs(block.until - a.sanctions.blockedConsumer('alice')!.until) < 5, 'with the same expiry');
  await until(() => b.sanctions.tightenFactor(null, '203.0.113.9') === 4, 'the tightening');
  t.equal(b.sanctions.blockedConsumer('bob'), null, 'nobody else');
  // A hostile or foreign message on the channel is ignored, with a log line.
  await redisCommand(redis.port, 'PUBLISH sanction-test:sanctions "{\\"subject\\":\\"consumer:eve\\",\\"type\\":\\"block\\",\\"until\\":1e20}"');
  await until(() => b.lines.some((l) => l.code === 'ZTG_STATE_BAD_SANCTION'), 'the refusal logged');
  t.equal(b.sanctions.blockedConsumer('eve'), null);
  // A process that starts now applies what is in force.
  const c = member(redis.url);
  t.teardown(() => c.store.close());
  await until(() => c.sanctions.blockedConsumer('alice') !== null, 'the block in a process started later');
  t.equal(c.sanctions.tightenFactor(null, '203.0.113.1'), 4);
});
