import t from 'tap';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

t.test('inspect stage through the gateway: block, monitor, exclusions, large bodies in the pool', async (t) => {
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const route = (name: string, path: string, stage: Record<string, unknown> = {}) => ({
    name,
    match: { path },
    upstream: 'app',
    public: true,
    stages: [{ type: 'inspect', ...stage }],
  });
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      route('api', '/api/*'),
      route('watched', '/watched/*', { mode: 'monitor' }),
      route('docs', '/docs/*', { exclude: [{ location: 'body', name: '$.snippet' }] }),
      route('tickets', '/tickets/*', { freeText: [{ location: 'body', name: '$.body' }] }),
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const url = `http://127.0.0.1:${port}`;
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  let seen = upstream.seen.length;
  let res = await fetch(`${url}/api/items?id=${encodeURIComponent("1' OR '1'='1")}`);
  t.equal(res.status, 403, 'SQL injection in the query is blocked');
  const problem = (await res.json()) as { code: string; rules: string[]; requestId: string };
  t.equal(problem.code, 'ZTG_THREAT_DETECTED');
  t.ok(problem.rules.length > 0, 'the answer names the rule ids');
  t.equal(upstream.seen.length, seen, 'the upstream never saw it');
  const line = await gw.waitForLog((l) => l.reqId === problem.requestId && l.msg === 'inspection: attack pattern blocked');
  t.equal(line.location, 'query');
  t.notMatch(JSON.stringify(line), /OR '1'='1/, 'the log does not echo the payload');

  res = await post('/api/orders', { customer: "Seán O'Brien", note: 'please select the union blue <3', items: [{ sku: 'DROP-TABLE-LAMP', qty: 2 }] });
  t.equal(res.status, 200, 'realistic benign JSON passes');
  res = await post('/api/orders', { note: '<script>alert(document.cookie)</script>' });
  t.equal(res.status, 403, 'XSS in a JSON value is blocked');

  seen = upstream.seen.length;
  res = await fetch(`${url}/watched/x?q=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
  t.equal(res.status, 200, 'monitor mode passes the request');
  t.equal(upstream.seen.length, seen + 1);
  await gw.waitForLog((l) => l.msg === 'inspection: attack pattern (monitor mode, passed)');

  res = await post('/docs/page', { snippet: "SELECT * FROM users WHERE id = '1' OR 1=1 --" });
  t.equal(res.status, 200, 'an excluded JSON path is not held against the request');
  res = await post('/docs/page', { title: "' UNION SELECT password FROM users --" });
  t.equal(res.status, 403, 'other fields of that route are still inspected');

  const pipeline = "Wrote a quick awk: awk -F, '{print $2}' orders.csv | sort | uniq -c";
  res = await post('/tickets/new', { body: pipeline });
  t.equal(res.status, 200, 'a shell pipeline in a declared free-text field passes');
  res = await post('/api/tickets', { body: pipeline });
  t.equal(res.status, 403, 'the same text in an undeclared field is judged as a command');
  res = await post('/tickets/new', { body: '<script>alert(document.cookie)</script>' });
  t.equal(res.status, 403, 'script in a free-text field is still blocked');
  res = await post('/tickets/new', { title: ';cat /etc/passwd', body: 'fine' });
  t.equal(res.status, 403, 'other fields of a free-text route are judged as usual');

  const filler = 'lorem ipsum dolor sit amet '.repeat(1200); // ~32 KB: scanned in the worker pool
  res = await post('/api/large', { filler, note: 'fine' });
  t.equal(res.status, 200, 'a large benign body passes through the pool');
  res = await post('/api/large', { filler, q: "1; DROP TABLE users; --" });
  t.equal(res.status, 403, 'a large body with an attack is blocked by the pool scan');
});
