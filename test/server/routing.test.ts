import t, { type Test } from 'tap';
import { request as httpRequest } from 'node:http';
import { freePort, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

/**
 * Routing through the real gateway: two upstreams answer with their own name,
 * so each assertion shows which route a request was carried by.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown> | null;
}

/** One request on its own connection, with any Host header. */
function request(port: number, method: string, path: string, host = 'gateway.test', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { host, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: Record<string, unknown> | null = null;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode!, headers: res.headers, body: text, json });
        });
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function named(name: string) {
  return startEchoUpstream((req, res, body) => {
    const out = JSON.stringify({ upstream: name, method: req.method, url: req.url, host: req.headers.host, bodyBytes: body.length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
}

let gw: RunningGateway;
let a: EchoUpstream;
let b: EchoUpstream;
let internalPort: number;

t.before(async () => {
  a = await named('A');
  b = await named('B');
  const externalPort = await freePort();
  internalPort = await freePort();
  const timeouts = { connectMs: 1000, firstByteMs: 2000, idleMs: 2000 };
  gw = await startGateway(
    {
      listeners: [
        { name: 'ext', host: '127.0.0.1', port: externalPort, segment: 'external' },
        { name: 'int', host: '127.0.0.1', port: internalPort, segment: 'internal' },
      ],
      upstreams: [
        { name: 'a', targets: [{ url: `http://127.0.0.1:${a.port}` }], timeouts },
        { name: 'b', targets: [{ url: `http://127.0.0.1:${b.port}` }], timeouts },
      ],
      routes: [
        // Listed least specific first: the order in the file must not matter.
        { name: 'users-prefix', match: { path: '/users/*' }, upstream: 'b', public: true },
        { name: 'users-param', match: { path: '/users/:id', methods: ['GET', 'PUT'] }, upstream: 'a', public: true },
        { name: 'users-me', match: { path: '/users/me' }, upstream: 'b', public: true },
        { name: 'static', match: { path: '/static/*' }, upstream: 'a', public: true },
        { name: 'static-img', match: { path: '/static/img/*' }, upstream: 'b', public: true },
        { name: 'api-users', match: { host: 'api.test', path: '/users/:id' }, upstream: 'b', public: true },
        { name: 'tenant-any', match: { host: '*.tenant.test', path: '/whoami' }, upstream: 'a', public: true },
        { name: 'tenant-vip', match: { host: 'vip.tenant.test', path: '/whoami' }, upstream: 'b', public: true },
        { name: 'orders', match: { path: '/orders', methods: ['POST', 'GET'] }, upstream: 'a', public: true },
        { name: 'orders-delete', match: { path: '/orders/:id', methods: ['DELETE'] }, upstream: 'b', public: true },
        { name: 'admin', match: { path: '/admin/*' }, upstream: 'b', public: true, segments: ['internal'] },
        { name: 'ops', match: { path: '/ops/*' }, upstream: 'a', public: true, listeners: ['int'] },
        { name: 'preserve', match: { path: '/ph/*' }, upstream: 'a', public: true, preserveHost: true },
        { name: 'plain-host', match: { path: '/nh/*' }, upstream: 'a', public: true },
      ],
    },
    { processes: 1 },
  );
});

t.teardown(async () => {
  await gw?.stop();
  await a?.close();
  await b?.close();
});

/** Sends, and checks which upstream answered (and that exactly one request reached it). */
async function routedTo(t: Tap, method: string, path: string, expected: 'A' | 'B', host?: string, port = gw.port): Promise<Answer> {
  const before = { A: a.seen.length, B: b.seen.length };
  const res = await request(port, method, path, host);
  t.equal(res.status, 200, `${method} ${host ?? ''}${path} answered`);
  t.equal(res.json?.upstream, expected, `${method} ${host ?? ''}${path} reached ${expected}`);
  const other = expected === 'A' ? 'B' : 'A';
  t.equal((expected === 'A' ? a : b).seen.length, before[expected] + 1, `${expected} saw it once`);
  t.equal((other === 'A' ? a : b).seen.length, before[other], `${other} did not see it`);
  return res;
}

type Tap = Test;

t.test('no matching route: 404 problem, nothing forwarded', async (t) => {
  const before = a.seen.length + b.seen.length;
  for (const path of ['/nothing', '/', '/user', '/orders/42/items', '/staticx']) {
    const res = await request(gw.port, 'GET', path);
    t.equal(res.status, 404, `${path} → 404`);
    t.equal(res.headers['content-type'], 'application/problem+json');
    t.equal(res.json?.code, 'ZTG_ROUTE_NOT_FOUND');
    t.equal(res.json?.requestId, res.headers['x-request-id']);
  }
  t.equal(a.seen.length + b.seen.length, before, 'no upstream reached');
});

t.test('method not allowed: 405 with an Allow header', async (t) => {
  const before = a.seen.length + b.seen.length;
  let res = await request(gw.port, 'PATCH', '/orders');
  t.equal(res.status, 405);
  t.equal(res.headers.allow, 'GET, POST', 'Allow lists the methods of the matching path, sorted');
  t.equal(res.json?.code, 'ZTG_METHOD_NOT_ALLOWED');
  res = await request(gw.port, 'GET', '/orders/7');
  t.equal(res.status, 405);
  t.equal(res.headers.allow, 'DELETE');
  t.equal(a.seen.length + b.seen.length, before, 'no upstream reached');

  await routedTo(t, 'GET', '/orders', 'A');
  await routedTo(t, 'POST', '/orders', 'A');
  await routedTo(t, 'DELETE', '/orders/7', 'B');
});

t.test('the most specific route wins, whatever the order in the file', async (t) => {
  await routedTo(t, 'GET', '/users/me', 'B'); // exact beats :param
  await routedTo(t, 'GET', '/users/42', 'A'); // :param beats prefix
  await routedTo(t, 'PUT', '/users/42', 'A');
  await routedTo(t, 'DELETE', '/users/42', 'B'); // :param does not take DELETE: the prefix route does
  await routedTo(t, 'GET', '/users/42/orders', 'B'); // only the prefix matches two segments
  await routedTo(t, 'GET', '/users', 'B'); // '/users/*' covers '/users' itself
  await routedTo(t, 'GET', '/static/css/site.css', 'A');
  await routedTo(t, 'GET', '/static/img/logo.png', 'B'); // longer prefix wins
  await routedTo(t, 'GET', '/static/imgx/logo.png', 'A'); // prefixes end at a segment boundary
});

t.test('host-specific routes', async (t) => {
  await routedTo(t, 'GET', '/users/42', 'B', 'api.test'); // host route beats the any-host :param
  await routedTo(t, 'GET', '/users/42', 'B', 'API.Test:8443'); // case and port do not matter
  await routedTo(t, 'DELETE', '/users/42', 'B', 'api.test');
  await routedTo(t, 'GET', '/users/42', 'A', 'other.test');
  await routedTo(t, 'GET', '/whoami', 'A', 'blue.tenant.test'); // wildcard host
  await routedTo(t, 'GET', '/whoami', 'B', 'vip.tenant.test'); // exact host beats wildcard
  const res = await request(gw.port, 'GET', '/whoami', 'tenant.test');
  t.equal(res.status, 404, "'*.tenant.test' does not match the bare domain");
  const other = await request(gw.port, 'GET', '/whoami', 'evil-tenant.test');
  t.equal(other.status, 404, "'*.tenant.test' does not match a look-alike");
});

t.test('segment- and listener-limited routes exist only where allowed', async (t) => {
  const before = a.seen.length + b.seen.length;
  for (const path of ['/admin/users', '/ops/health']) {
    const res = await request(gw.port, 'GET', path);
    t.equal(res.status, 404, `${path} is not found on the external listener`);
    t.equal(res.json?.code, 'ZTG_ROUTE_NOT_FOUND');
  }
  // Encoded or doubled slashes must not reach it either.
  for (const path of ['//admin/users', '/x/../admin/users', '/%61dmin/users']) {
    const res = await request(gw.port, 'GET', path);
    t.equal(res.status, 404, `${path} is not found on the external listener`);
  }
  t.equal(a.seen.length + b.seen.length, before, 'nothing forwarded from the external listener');

  const admin = await routedTo(t, 'GET', '/admin/users', 'B', undefined, internalPort);
  t.equal(admin.json?.url, '/admin/users');
  await routedTo(t, 'GET', '/ops/health', 'A', undefined, internalPort);
  // Routes without limits are on both listeners.
  await routedTo(t, 'GET', '/users/me', 'B', undefined, internalPort);
});

t.test('preserveHost forwards the client Host; other routes send the target authority', async (t) => {
  const kept = await routedTo(t, 'GET', '/ph/x', 'A', 'client.example:8080');
  t.equal(kept.json?.host, 'client.example:8080', 'client Host forwarded');
  t.equal(a.seen.at(-1)?.headers['x-forwarded-host'], 'client.example:8080');
  const replaced = await routedTo(t, 'GET', '/nh/x', 'A', 'client.example:8080');
  t.equal(replaced.json?.host, `127.0.0.1:${a.port}`, 'target authority without preserveHost');
  t.equal(a.seen.at(-1)?.headers['x-forwarded-host'], 'client.example:8080', 'the client Host goes in X-Forwarded-Host');
});
