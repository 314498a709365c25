import t from 'tap';
import { createHash } from 'node:crypto';
import { freePort, rawRequest, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

// One access line per request, with the route, consumer, sizes and the time
// spent in each stage and upstream phase; sampling and switches per route.

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const KEY = 'access-key-0123456789';
const UPSTREAM_DELAY_MS = 120;

let gw: RunningGateway;
let upstream: EchoUpstream;

t.before(async () => {
  upstream = await startEchoUpstream((req, res, body) => {
    const out = JSON.stringify({ url: req.url, traceparent: req.headers.traceparent ?? null, bodyBytes: body.length });
    const send = () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    };
    if (req.url!.endsWith('/missing')) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
    } else if (req.url!.startsWith('/slow')) setTimeout(send, UPSTREAM_DELAY_MS);
    else send();
  });
  const port = await freePort();
  gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    identity: { consumers: [{ name: 'billing', apiKeys: [{ sha256: sha(KEY) }] }] },
    routes: [
      { name: 'quiet', match: { path: '/quiet/*' }, upstream: 'app', public: true, accessLog: { enabled: false } },
      { name: 'sampled', match: { path: '/sampled/*' }, upstream: 'app', public: true, accessLog: { sample: 0 } },
      {
        name: 'orders',
        match: { path: '/*' },
        upstream: 'app',
        stages: [
          { type: 'identity', methods: [{ apiKey: {} }] },
          { type: 'rate-limit', limits: [{ rate: '1000/s', key: ['consumer'] }] },
        ],
      },
    ],
  });
});

t.teardown(async () => {
  await gw?.stop();
  await upstream?.close();
});

const accessLines = () => gw.logs().filter((l) => l.access === true);
const lineFor = (reqId: string) => gw.waitForLog((l) => l.access === true && l.reqId === reqId);

function get(path: string, id: string, extra = ''): Promise<{ status: number; body: string }> {
  return rawRequest(gw.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nx-request-id: ${id}\r\n${extra}\r\n`, 400, { untilResponse: true }).then((r) => ({ status: r.status, body: r.body }));
}

t.test('an answered request: route, consumer, sizes, stage and upstream times', async (t) => {
  const body = '{"qty":3}';
  const res = await rawRequest(
    gw.port,
    `POST /slow/orders?card=4111111111111111 HTTP/1.1\r\nHost: a\r\nx-request-id: ok-1\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    600,
    { untilResponse: true },
  );
  t.equal(res.status, 200);
  const line = await lineFor('ok-1');
  t.match(line, { msg: 'access', route: 'orders', upstream: 'app', method: 'POST', path: '/slow/orders', status: 200, consumer: 'billing', client: '127.0.0.1', bytesIn: body.length });
  t.equal(line.bytesOut, Buffer.byteLength(res.body), 'bytes out are the body bytes sent');
  t.notOk(JSON.stringify(line).includes('4111111111111111'), 'the query string is never logged');
  const stages = line.stages as Record<string, number>;
  t.same(Object.keys(stages).sort(), ['identity', 'rate-limit'], 'a time for each stage that ran');
  t.ok(Object.values(stages).every((ms) => typeof ms === 'number' && ms >= 0));
  // The upstream held the answer UPSTREAM_DELAY_MS: its share is at least that, and inside the total.
  t.ok((line.upstreamMs as number) >= UPSTREAM_DELAY_MS, `upstream time ${line.upstreamMs} ms`);
  t.ok((line.ttfbMs as number) >= UPSTREAM_DELAY_MS, `time to first byte ${line.ttfbMs} ms`);
  t.ok((line.ms as number) >= (line.upstreamMs as number), 'total includes the upstream time');
  t.ok((line.connectMs as number) >= 0, 'connection time present');
  const trace = JSON.parse(res.body).traceparent as string;
  t.equal(trace.split('-')[1], line.traceId, "the logged trace id is the one the upstream saw");
});

t.test('refusals are logged too, with their code, before and after routing', async (t) => {
  t.equal((await get('/orders', 'no-key')).status, 401);
  t.match(await lineFor('no-key'), { route: 'orders', status: 401, code: 'ZTG_UNAUTHENTICATED', stages: { identity: Number } });
  t.notOk((await lineFor('no-key')).upstream, 'nothing forwarded, no upstream');

  t.equal((await get('/orders/%2e%2e/%2e%2e/etc/passwd', 'bad-path')).status, 400);
  const bad = await lineFor('bad-path');
  t.match(bad, { route: '', status: 400, code: 'ZTG_BAD_PATH' });
  t.equal(bad.path, '', 'a refused path is not logged: it may be the attack itself');
});

t.test('per route: disabled, and sampled (errors always logged)', async (t) => {
  t.equal((await get('/quiet/a', 'quiet-1')).status, 200);
  t.equal((await get('/sampled/a', 'sampled-ok')).status, 200);
  t.equal((await get('/sampled/missing', 'sampled-bad')).status, 404);
  // Requests are logged in order by one process: once a later line is out, earlier ones would be too.
  t.equal((await get('/orders', 'marker', `x-api-key: ${KEY}\r\n`)).status, 200);
  await lineFor('marker');
  const ids = accessLines().map((l) => l.reqId);
  t.notOk(ids.includes('quiet-1'), 'a route with the access log off logs nothing');
  t.notOk(ids.includes('sampled-ok'), 'sample 0 drops successes');
  t.ok(ids.includes('sampled-bad'), 'errors are always logged');
});
