import t from 'tap';
import { once } from 'node:events';
import { request, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { basicConfig, CLI, freePort, ROOT, startGateway } from '../helpers/gateway.js';
import { spawnNode } from '../helpers/spawn-node.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { adminCall, startAdminGateway } from './helpers.js';

// The cap of the gateway under test, read from its compiled module: importing
// src/admin/server.ts here would transpile its whole import graph (~1 s) for one number.
const { MAX_EVENT_CLIENTS } = (await import(join(ROOT, 'dist/admin/server.js'))) as { MAX_EVENT_CLIENTS: number };

/**
 * The admin listener refuses every call without the bearer token (401, logged
 * with a reason, never the token), answers 404 for unknown paths once
 * authenticated, and keeps serving (and the gateway keeps proxying) after any
 * of it.
 */

// Several real processes on a shared 2-core machine: allow for a loaded run.
t.setTimeout(180_000);

t.test('hostile and unauthenticated calls', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const a = await startAdminGateway(basicConfig(port, upstream.port));
  t.teardown(() => a.gw.stop());

  const refused: [string, Promise<{ status: number; headers: Record<string, unknown>; body: string }>][] = [
    ['no token', a.call('/metrics', { token: null })],
    ['wrong token', a.call('/metrics', { token: 'x'.repeat(24) })],
    ['right token, one character short', a.call('/stats', { token: a.token.slice(0, -1) })],
    ['token in the query string of /metrics', a.call(`/metrics?token=${a.token}`, { token: null })],
    ['token in a cookie', a.call('/stats', { token: null, headers: { cookie: `token=${a.token}` } })],
    ['token as Basic credentials', a.call('/stats', { token: null, headers: { authorization: `Basic ${Buffer.from(`admin:${a.token}`).toString('base64')}` } })],
    ['token without the Bearer scheme', a.call('/stats', { token: null, headers: { authorization: a.token } })],
    ['token in an X-Api-Key header', a.call('/config', { token: null, headers: { 'x-api-key': a.token } })],
    ['wrong token in the /events query', a.call('/events?token=wrong-token-of-some-length', { token: null })],
    ['unknown path without a token', a.call('/secret-place', { token: null })],
    ['POST /reload without a token', a.call('/reload', { method: 'POST', token: null })],
  ];
  for (const [what, call] of refused) {
    const r = await call;
    t.equal(r.status, 401, `${what}: 401`);
    t.equal(r.headers['content-type'], 'application/problem+json', `${what}: problem document`);
    t.match(JSON.parse(r.body), { code: 'ZTG_UNAUTHENTICATED' });
    t.equal(r.headers['www-authenticate'], 'Bearer realm="ztgate-admin"');
  }
  // Hostile request line: control bytes and a huge path; the listener answers and lives on.
  const raw = await new Promise<string>((resolve) => {
    const s = connect(a.adminPort, '127.0.0.1');
    let out = '';
    s.on('data', (c) => (out += c.toString()));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.write(`GET /${'%00'.repeat(2000)}\u0007 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  });
  t.match(raw, /^HTTP\/1\.1 4\d\d/, 'malformed request line answered 4xx');

  const unknown = await a.call('/secret-place');
  t.equal(unknown.status, 404, 'unknown path with the token: 404');
  t.match(JSON.parse(unknown.body), { code: 'ZTG_ROUTE_NOT_FOUND' });
  const wrongMethod = await a.call('/metrics', { method: 'DELETE' });
  t.equal(wrongMethod.status, 405, 'known path, wrong method: 405');
  t.equal(wrongMethod.headers.allow, 'GET');

  const refusals = await a.gw.waitForLog((l) => l.msg === 'admin: refused, not authenticated' && l.reason === 'wrong bearer token');
  t.equal(refusals.path, '/metrics', 'refusal logged with the path');
  await a.gw.waitForLog((l) => l.msg === 'admin: unknown path' && l.path === '/secret-place');
  const reasons = new Set(a.gw.logs().filter((l) => l.msg === 'admin: refused, not authenticated').map((l) => l.reason));
  t.ok(reasons.has('no bearer token') && reasons.has('token in the query string is accepted on /events only') && reasons.has('authorization header is not a bearer token'), 'each refusal says why');
  t.notOk(a.gw.output().includes(a.token), 'the token never appears in the output');

  // Dashboards beyond the cap are refused; the others keep streaming.
  const streams = await Promise.all(
    Array.from({ length: MAX_EVENT_CLIENTS }, () =>
      new Promise<ClientRequest>((resolve, reject) => {
        const r = request({ host: '127.0.0.1', port: a.adminPort, path: '/events', headers: { authorization: `Bearer ${a.token}` } });
        r.on('response', (res) => {
          res.resume();
          resolve(r);
        });
        r.on('error', reject);
        r.end();
      }),
    ),
  );
  const extra = await a.call('/events');
  t.equal(extra.status, 503, `dashboard ${MAX_EVENT_CLIENTS + 1}: 503`);
  t.match(JSON.parse(extra.body), { code: 'ZTG_CONCURRENCY_LIMITED' });
  await a.gw.waitForLog((l) => l.msg === 'admin: too many dashboards connected; refused');
  for (const s of streams) s.destroy();

  // Still serving, both planes.
  const health = await a.call('/health');
  t.equal(health.status, 200, 'the right token works after all that');
  t.equal(health.json().status, 'ok');
  t.equal((await a.call('/health', { token: null, headers: { authorization: `bearer ${a.token}` } })).status, 200, 'the scheme name is case-insensitive');
  const proxied = await fetch(`${a.gw.url}/x`);
  t.equal(proxied.status, 200, 'the gateway still proxies');
});

t.test('no token configured: the admin listener stays off and says so', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const adminPort = await freePort();
  const gw = await startGateway(basicConfig(port, upstream.port), { env: { ZTGATE_ADMIN_PORT: String(adminPort) } });
  t.teardown(() => gw.stop());
  await gw.waitForLog((l) => l.msg === 'admin listener off: set ZTGATE_ADMIN_TOKEN or ZTGATE_ADMIN_TOKEN_FILE to turn it on');
  await t.rejects(adminCall(adminPort, '/health'), { code: 'ECONNREFUSED' }, 'nothing listens on the admin port');
  t.equal((await fetch(`${gw.url}/x`)).status, 200, 'the gateway serves');
});

t.test('a weak or doubly configured token stops the start with a clear message', async (t) => {
  // The four refusals run side by side (each is a CLI start that exits early).
  const run = async (env: Record<string, string>) => {
    const proc = spawnNode([CLI, '--config', '/nonexistent.yaml'], { cwd: ROOT, env: { ...process.env, ...env } });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.stdout.resume();
    const [status] = (await once(proc, 'close')) as [number | null];
    return { status, stderr };
  };
  const [short, both, missing, port] = await Promise.all([
    run({ ZTGATE_ADMIN_TOKEN: 'short' }),
    run({ ZTGATE_ADMIN_TOKEN: 'a'.repeat(20), ZTGATE_ADMIN_TOKEN_FILE: '/tmp/x' }),
    run({ ZTGATE_ADMIN_TOKEN_FILE: '/nonexistent/token' }),
    run({ ZTGATE_ADMIN_PORT: '70000' }),
  ]);
  t.equal(short.status, 2);
  t.match(short.stderr, /ZTGATE_ADMIN_TOKEN: the admin token must be 16 to 512 visible ASCII characters/);
  t.equal(both.status, 2);
  t.match(both.stderr, /set one, not both/);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /ZTGATE_ADMIN_TOKEN_FILE: cannot read "\/nonexistent\/token": file not found \(ENOENT\)/);
  t.equal(port.status, 2);
  t.match(port.stderr, /ZTGATE_ADMIN_PORT/);
});
