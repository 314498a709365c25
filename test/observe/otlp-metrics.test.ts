import t from 'tap';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { basicConfig, freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

/**
 * OpenTelemetry's HTTP server metric goes to a real OTLP/HTTP collector (a
 * node:http server here): http.server.request.duration in seconds, a
 * cumulative histogram per route, method and status, with the collector's
 * key from the environment.
 */

interface Point {
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[];
  count: string;
  sum: number;
  bucketCounts: string[];
  explicitBounds: number[];
  startTimeUnixNano: string;
}
interface Metric {
  name: string;
  unit: string;
  histogram: { aggregationTemporality: number; dataPoints: Point[] };
}

t.test('http.server.request.duration reaches the collector, by route, method and status', async (t) => {
  const posted: { headers: Record<string, unknown>; metrics: Metric[]; resource: Record<string, string | undefined> }[] = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        resourceMetrics: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeMetrics: { metrics: Metric[] }[] }[];
      };
      const resource = Object.fromEntries(body.resourceMetrics[0]!.resource.attributes.map((a) => [a.key, a.value.stringValue]));
      posted.push({ headers: req.headers, resource, metrics: body.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)) });
      res.writeHead(200).end();
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  t.teardown(() => collector.close());
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}/v1/metrics`;
  const config = {
    ...basicConfig(port, upstream.port),
    observe: { otlpMetrics: { endpoint, intervalMs: 200, headers: { 'x-collector-key': { env: 'ZTG_TEST_COLLECTOR_KEY' } } } },
  };
  const gw = await startGateway(config, { env: { ZTG_TEST_COLLECTOR_KEY: 'k-123' } });
  t.teardown(() => gw.stop());

  for (let i = 0; i < 3; i++) t.equal((await fetch(`${gw.url}/orders/${i}`)).status, 200);
  t.equal((await fetch(`${gw.url}/orders/x`, { method: 'DELETE' })).status, 200);

  const point = (m: Metric | undefined, method: string) =>
    m?.histogram.dataPoints.find((p) => p.attributes.some((a) => a.key === 'http.request.method' && a.value.stringValue === method));
  const latest = () => posted.at(-1)?.metrics.find((m) => m.name === 'http.server.request.duration');
  const deadline = Date.now() + 20_000; // bounds a broken export only
  while (Number(point(latest(), 'GET')?.count ?? 0) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const metric = latest();
  t.ok(metric, 'the metric was exported');
  t.equal(metric?.unit, 's', 'in seconds');
  t.equal(metric?.histogram.aggregationTemporality, 2, 'cumulative');
  const get = point(metric, 'GET')!;
  t.equal(get.count, '3', 'three GETs');
  t.equal(get.bucketCounts.reduce((a, b) => a + Number(b), 0), 3, 'the buckets hold them all');
  t.equal(get.bucketCounts.length, get.explicitBounds.length + 1);
  t.same(get.explicitBounds.slice(0, 3), [0.005, 0.01, 0.025], "the semantic conventions' buckets");
  t.ok(get.sum > 0 && get.sum < 20, `sum in seconds: ${get.sum}`);
  const attrs = Object.fromEntries(get.attributes.map((a) => [a.key, a.value.stringValue ?? a.value.intValue]));
  t.same(attrs, { 'http.route': 'all', 'http.request.method': 'GET', 'http.response.status_code': '200' });
  t.equal(point(metric, 'DELETE')?.count, '1', 'another method, another series');
  t.equal(posted.at(-1)?.headers['x-collector-key'], 'k-123', "the collector's key, read from the environment");
  t.equal(posted.at(-1)?.resource['service.name'], 'ztgate');
  t.match(posted.at(-1)?.resource['service.instance.id'], /^[0-9a-f-]{36}$/, 'each process its own stream');
});
