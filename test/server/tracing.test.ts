import t from 'tap';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { basicConfig, freePort, rawRequest, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

/** Each request below expects one whole response: no need to wait out the quiet period. */
const whole = { untilResponse: true };

// The gateway's spans go to a real OTLP/HTTP collector (a node:http server
// here), batched, with the collector's key from the environment; a collector
// that fails costs spans, never requests.

interface Posted {
  headers: Record<string, string | string[] | undefined>;
  body: { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Span[] }[] }[] };
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[];
  status: { code?: number };
}

let collector: Server;
let collectorStatus = 200;
const posted: Posted[] = [];
let upstream: EchoUpstream;
let gw: RunningGateway;

const spans = () => posted.flatMap((p) => p.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
const attrOf = (s: Span, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue;
};

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!pred()) throw new Error(`not seen: ${what}`);
}

t.before(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (collectorStatus === 200) posted.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(collectorStatus).end();
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  upstream = await startEchoUpstream();
  const port = await freePort();
  const config = basicConfig(port, upstream.port);
  config.observe = {
    tracing: {
      otlp: {
        endpoint: `http://127.0.0.1:${(collector.address() as { port: number }).port}/v1/traces`,
        headers: { authorization: { env: 'TEST_COLLECTOR_KEY' } },
        serviceName: 'edge-gw',
        flushMs: 50,
      },
    },
  };
  gw = await startGateway(config, { env: { TEST_COLLECTOR_KEY: 'Bearer collector-secret' } });
});

t.teardown(async () => {
  await gw?.stop();
  await upstream?.close();
  collector?.close();
});

t.test('a sampled caller: the span joins its trace, and is the upstream\'s parent', async (t) => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const callerSpan = 'b7ad6b7169203331';
  const res = await rawRequest(gw.port, `GET /orders/7 HTTP/1.1\r\nHost: a\r\ntraceparent: 00-${traceId}-${callerSpan}-01\r\n\r\n`, 500, whole);
  t.equal(res.status, 200);
  await until(() => spans().some((s) => s.traceId === traceId), 'the span');
  const span = spans().find((s) => s.traceId === traceId)!;
  t.equal(span.parentSpanId, callerSpan, "the caller's span is the parent");
  t.equal(upstream.seen.at(-1)!.headers.traceparent, `00-${traceId}-${span.spanId}-01`, "the exported span is the upstream's parent");
  t.match(span, { name: 'GET all', kind: 2, status: {} });
  t.equal(attrOf(span, 'http.response.status_code'), '200');
  t.equal(attrOf(span, 'http.route'), 'all');
  t.equal(attrOf(span, 'url.path'), '/orders/7');
  t.ok(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano), 'end after start');
  const post = posted.find((p) => JSON.stringify(p.body).includes(traceId))!;
  t.equal(post.headers.authorization, 'Bearer collector-secret', "the collector's key, from the environment");
  t.equal(post.body.resourceSpans[0].resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue, 'edge-gw');
});

t.test('new traces are sampled at the configured ratio (1 by default); an unsampled caller is not exported', async (t) => {
  const before = spans().length;
  const unsampled = '1af7651916cd43dd8448eb211c80319c';
  t.equal((await rawRequest(gw.port, `GET /a HTTP/1.1\r\nHost: a\r\ntraceparent: 00-${unsampled}-b7ad6b7169203331-00\r\n\r\n`, 500, whole)).status, 200);
  t.equal((await rawRequest(gw.port, 'GET /b HTTP/1.1\r\nHost: a\r\n\r\n', 500, whole)).status, 200);
  const fresh = upstream.seen.at(-1)!.headers.traceparent as string;
  t.match(fresh, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'a new trace, marked sampled');
  await until(() => spans().some((s) => s.traceId === fresh.split('-')[1]), 'the new trace');
  t.notOk(spans().some((s) => s.traceId === unsampled), 'the caller said not sampled');
  t.equal(spans().length, before + 1);
});

t.test('a failing collector costs spans, not requests', async (t) => {
  collectorStatus = 503;
  for (let i = 0; i < 5; i++) t.equal((await rawRequest(gw.port, `GET /c${i} HTTP/1.1\r\nHost: a\r\n\r\n`, 500, whole)).status, 200);
  const warn = await gw.waitForLog((l) => l.msg === 'trace export: spans dropped');
  t.match(warn, { why: 'collector answered 503' });
  t.notOk(gw.output().includes('collector-secret'), 'the collector key is never logged');
  collectorStatus = 200;
  t.equal((await rawRequest(gw.port, 'GET /after HTTP/1.1\r\nHost: a\r\n\r\n', 500, whole)).status, 200, 'still serving');
});
