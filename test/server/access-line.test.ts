import t from 'tap';
import pino from 'pino';
import { accessLineWriter, formatAccessLine } from '../../src/observe/access-line.js';
import { scrubString } from '../../src/protect/log-scrub.js';
import type { RequestRecord } from '../../src/observe/request-record.js';

const record = (over: Partial<RequestRecord> = {}): RequestRecord => ({
  id: 'req-1',
  time: 0,
  listener: 'main',
  route: 'orders',
  upstream: 'app',
  method: 'GET',
  path: '/orders/1',
  status: 200,
  code: null,
  consumer: 'acme',
  clientAddress: '2001:db8::1',
  bytesIn: 0,
  bytesOut: 12,
  totalMs: 1.23456,
  upstreamMs: 1,
  upstreamTtfbMs: 0.5,
  upstreamConnectMs: null,
  stages: { identity: 0.0123, 'rate-limit': 0.002 },
  span: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentId: null, flags: '00', sampled: false },
  ...over,
});

t.test('the hand-built access line is one valid JSON line, as pino would print it', async (t) => {
  const line = formatAccessLine(record(), 30, ',"pid":7,"role":"gateway"', scrubString);
  t.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'), 'one line');
  t.match(JSON.parse(line), {
    level: 30, pid: 7, role: 'gateway', msg: 'access', access: true, reqId: 'req-1', route: 'orders', upstream: 'app', status: 200, consumer: 'acme',
    client: '2001:db8::1', bytesOut: 12, ms: 1.235, upstreamMs: 1, ttfbMs: 0.5, stages: { identity: 0.012, 'rate-limit': 0.002 }, traceId: 'a'.repeat(32),
  });
  t.notOk('connectMs' in JSON.parse(line), 'absent times are left out');
});

t.test('hostile strings stay inside their field; personal data in the path is scrubbed', async (t) => {
  const line = formatAccessLine(record({ path: '/a"b\\c/\u0001/4111111111111111', consumer: 'x","admin":true,"y":"', route: '', upstream: '', code: 'ZTG_BAD_PATH', status: 400 }), 30, '', scrubString);
  const parsed = JSON.parse(line);
  t.equal(parsed.consumer, 'x","admin":true,"y":"', 'the consumer name is one string');
  t.notOk('admin' in parsed, 'no field injected');
  t.match(parsed.path, /^\/a"b\\c\/\u0001\//);
  t.notOk(line.includes('4111111111111111'), 'the card number is not written');
  t.equal(parsed.code, 'ZTG_BAD_PATH');
  t.notOk('upstream' in parsed);
});

t.test("one event-loop turn's access lines reach the destination as one write, in order", async (t) => {
  const writes: string[] = [];
  const write = accessLineWriter(pino({ level: 'info' }, { write: (s: string) => void writes.push(s) }), scrubString);
  for (const id of ['a', 'b', 'c']) write(record({ id }));
  t.equal(writes.length, 0, 'nothing written within the turn');
  await new Promise((r) => setImmediate(r));
  t.equal(writes.length, 1, 'one write for the turn');
  t.same(writes[0]!.trimEnd().split('\n').map((l) => (JSON.parse(l) as { reqId: string }).reqId), ['a', 'b', 'c'], 'every line, in order');
  write(record({ id: 'd' }));
  await new Promise((r) => setImmediate(r));
  t.equal(writes.length, 2, 'the next turn writes again');
});
