import t from 'tap';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

t.test('PII scan pool: a scan that overruns its time fails closed, request or response, and the pool keeps working', async (t) => {
  // ~6 MB of JSON full of values to check: far more than 10 ms of scanning in a worker.
  const big = JSON.stringify({ items: Array.from({ length: 60_000 }, (_, i) => ({ id: i, card: '4111 1111 1111 1111', note: `call +1 415 555 ${1000 + (i % 9000)}` })) });
  const upstream = await startEchoUpstream((req, res, body) => {
    // The gateway forwards the route's path as it is: /h/big-answer.
    const out = req.url === '/h/big-answer' ? big : JSON.stringify({ bytes: body.length, card: '4111 1111 1111 1111', filler: 'x'.repeat(20_000) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
  });
  const port = await freePort();
  const stage = { type: 'protect', requests: {}, maxScanBytes: 16 * 1024 * 1024 };
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      { name: 'hurried', match: { path: '/h/*' }, upstream: 'app', public: true, maxBodyBytes: 16 * 1024 * 1024, stages: [{ ...stage, timeoutMs: 10 }] },
      { name: 'normal', match: { path: '/*' }, upstream: 'app', public: true, maxBodyBytes: 16 * 1024 * 1024, stages: [stage] },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const url = `http://127.0.0.1:${port}`;

  const seen = upstream.seen.length;
  const up = await fetch(`${url}/h/upload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
  t.equal(up.status, 503, 'an upload whose scan was cut is refused');
  t.equal(((await up.json()) as { code: string }).code, 'ZTG_INSPECTION_FAILED');
  t.equal(upstream.seen.length, seen, 'and never forwarded');
  await gw.waitForLog((l) => l.msg === 'protect: scan worker failed' && l.direction === 'request');

  const down = await fetch(`${url}/h/big-answer`);
  t.equal(down.status, 502, 'an answer whose scan was cut is withheld');
  const text = await down.text();
  t.equal((JSON.parse(text) as { code: string }).code, 'ZTG_RESPONSE_WITHHELD');
  t.notMatch(text, '4111', 'nothing of it leaks');

  const ok = await fetch(`${url}/after`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ card: '4111 1111 1111 1111', filler: 'y'.repeat(20_000) }) });
  t.equal(ok.status, 200, 'the pool still scans after cut tasks (replaced workers)');
  const body = (await ok.json()) as { card: string };
  t.equal(body.card, '**** **** **** 1111', 'a 20 KB answer scanned in the pool and masked');
  t.match(upstream.seen.at(-1)!.body.toString(), '**** **** **** 1111', 'and the 20 KB upload too');
});
