/**
 * Overload named as overload: a protect route whose scans saturate a
 * one-thread pool sheds the excess with 503 ZTG_OVERLOADED and Retry-After
 * (not 502 ZTG_RESPONSE_WITHHELD), logs it once a second with counts (not
 * an error line per request), and ztgate_worker_pool_queued shows the backlog.
 */
import t from 'tap';
import { freePort } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { startAdminGateway } from '../admin/helpers.js';

// ~1.5 MB of JSON full of values to check: tens of ms of scanning per answer.
const big = JSON.stringify({ items: Array.from({ length: 15_000 }, (_, i) => ({ id: i, card: '4111 1111 1111 1111', note: `call +1 415 555 ${1000 + (i % 9000)}` })) });
const upstream = await startEchoUpstream((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }).end(big);
});
const port = await freePort();
const admin = await startAdminGateway(
  {
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [{ name: 'scanned', match: { path: '/*' }, upstream: 'app', public: true, stages: [{ type: 'protect', maxScanBytes: 16 * 1024 * 1024, timeoutMs: 3000 }] }],
  },
  { env: { ZTGATE_WORKERS: '1' } },
);
const gw = admin.gw;
t.teardown(async () => {
  await gw.stop();
  await upstream.close();
});

const queuedOf = (text: string) => Math.max(0, ...[...text.matchAll(/ztgate_worker_pool_queued\{[^}]*protect[^}]*\} (\d+)/g)].map((m) => Number(m[1])));

t.test('120 answers to scan at once on one thread: the excess is shed as 503 ZTG_OVERLOADED', async (t) => {
  const url = `http://127.0.0.1:${port}`;
  const warm = await fetch(`${url}/warm`);
  t.equal(warm.status, 200, 'one scan works');
  await warm.arrayBuffer();
  const all = Promise.all(
    Array.from({ length: 120 }, async (_, i) => {
      const r = await fetch(`${url}/x${i}`);
      const body = await r.text();
      return { status: r.status, retryAfter: r.headers.get('retry-after'), code: r.status === 200 ? null : (JSON.parse(body) as { code: string }).code, leaked: r.status !== 200 && body.includes('4111 1111') };
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  const during = await admin.call('/metrics');
  const answers = await all;
  const after = await admin.call('/metrics');
  const by = new Map<string, number>();
  for (const a of answers) by.set(`${a.status} ${a.code ?? ''}`, (by.get(`${a.status} ${a.code ?? ''}`) ?? 0) + 1);
  t.comment(JSON.stringify([...by]));
  const shed = answers.filter((a) => a.code === 'ZTG_OVERLOADED');
  t.ok(shed.length > 0, `some answers shed (${shed.length})`);
  t.ok(answers.some((a) => a.status === 200), 'some scanned and answered');
  t.ok(shed.every((a) => a.status === 503 && a.retryAfter === '1'), 'shed as 503 with Retry-After');
  // A task admitted may still overrun its time on a loaded machine; shedding keeps that rare.
  const withheld = answers.filter((a) => a.code === 'ZTG_RESPONSE_WITHHELD').length;
  t.ok(withheld <= 6, `few or none withheld for a timeout (${withheld} of 120)`);
  t.notOk(answers.some((a) => a.leaked), 'nothing unscanned leaks');
  const logs = gw.logs();
  t.equal(logs.filter((l) => l.msg === 'protect: scan worker failed').length, withheld, 'no error line for a shed answer');
  const lines = logs.filter((l) => l.msg === 'worker pool full: tasks refused as overload (503)');
  t.ok(lines.length >= 1 && lines.length <= 8, `a few overload lines, not one per request (${lines.length})`);
  // The last interval's line comes a second after the burst.
  await gw.waitForLog(() => gw.logs().filter((l) => l.msg === 'worker pool full: tasks refused as overload (503)').reduce((n, l) => n + Number(l.count), 0) === shed.length, 5000);
  t.pass('their counts add up to the answers shed');
  t.ok(Math.max(queuedOf(during.body), queuedOf(after.body)) > 0, 'ztgate_worker_pool_queued showed the backlog');
  t.match(after.body, /ztgate_worker_pool_shed_total\{[^}]*protect[^}]*\} [1-9]/, 'and the shed counter counted');
});
