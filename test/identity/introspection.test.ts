import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Introspector, MAX_TOKEN_LENGTH } from '../../src/identity/introspection.js';
import type { IntrospectionConfig } from '../../src/identity/types.js';
import type { Logger } from '../../src/observe/log.js';

const CLIENT_ID = 'ztgate gw'; // a space: checks the form-encoding of Basic credentials
const CLIENT_SECRET = 's3cr3t:with/colon+plus';
const SECRET_ENV = 'ZTGATE_TEST_INTROSPECTION_SECRET';
process.env[SECRET_ENV] = CLIENT_SECRET;
process.env.ZTGATE_TEST_INTROSPECTION_WRONG = 'not-the-secret';

const nowSec = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  contentType: string | undefined;
  params: URLSearchParams;
}

/** A real RFC 7662 endpoint: checks Basic credentials and counts calls per token. */
class Endpoint {
  readonly calls = new Map<string, number>();
  readonly seen: Seen[] = [];
  total = 0;
  rejected = 0;
  #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/oauth2/introspect`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  count(token: string): number {
    return this.calls.get(token) ?? 0;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.total++;
    const expected = 'Basic ' + Buffer.from(`ztgate+gw:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');
    if (req.method !== 'POST' || req.url !== '/oauth2/introspect' || req.headers.authorization !== expected) {
      this.rejected++;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="introspect"' });
      res.end('{"error":"invalid_client"}');
      return;
    }
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    this.seen.push({ contentType: req.headers['content-type'], params });
    const token = params.get('token') ?? '';
    this.calls.set(token, this.count(token) + 1);
    const json = (body: unknown, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const [kind, arg] = token.split('.');
    switch (kind) {
      case 'active':
        json({
          active: true,
          sub: `user-${arg}`,
          client_id: 'app-1',
          scope: 'orders:read orders:write',
          roles: ['admin'],
          groups: 'ops devs',
          exp: nowSec() + 3600,
          tenant: 'acme',
        });
        return;
      case 'slowactive':
        await sleep(100);
        json({ active: true, client_id: 'svc-batch', exp: nowSec() + 3600 });
        return;
      case 'shortlived': {
        // exp is fixed by the token (epoch seconds in it); inactive once passed.
        const exp = Number(arg);
        json(nowSec() < exp ? { active: true, username: 'short', exp } : { active: false });
        return;
      }
      case 'noexp':
        json({ active: true, sub: 'noexp' });
        return;
      case 'nosubject':
        json({ active: true, scope: 'x' });
        return;
      case 'refresh':
        json({ active: true, sub: 'u', token_type: 'refresh_token' });
        return;
      case 'boom500':
        json({ error: 'server_error' }, 500);
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"active": tru');
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>{"active":true}</html>');
        return;
      case 'notactivebool':
        json({ active: 'true', sub: 'u' });
        return;
      case 'array':
        json([{ active: true, sub: 'u' }]);
        return;
      case 'huge':
        json({ active: true, sub: 'u', padding: 'x'.repeat(70 * 1024) });
        return;
      case 'hugechunked':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"active":true,"sub":"u","padding":"');
        for (let i = 0; i < 80; i++) res.write('x'.repeat(1024));
        res.end('"}');
        return;
      case 'slow':
        await sleep(1000);
        json({ active: true, sub: 'late' });
        return;
      case 'redirect':
        res.writeHead(302, { location: this.url + '?again' });
        res.end();
        return;
      default:
        json({ active: false });
    }
  }
}

function capturingLogger(): { log: Logger; lines: Record<string, unknown>[]; raw: string[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = pino({ level: 'debug' }, {
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { log, lines, raw };
}

function config(endpoint: string, overrides: Partial<IntrospectionConfig> = {}): IntrospectionConfig {
  return {
    name: 'corp-idp',
    environment: 'prod',
    endpoint,
    clientId: CLIENT_ID,
    clientSecret: { env: SECRET_ENV },
    cacheMaxSec: 60,
    timeoutMs: 2000,
    ...overrides,
  };
}

const endpoint = new Endpoint();
t.before(() => endpoint.start());
t.teardown(() => endpoint.stop());

t.test('active token → principal', async (tt) => {
  const { log } = capturingLogger();
  const intro = new Introspector(config(endpoint.url), { log });
  const r = await intro.introspect('active.alice');
  tt.ok(r.ok);
  if (!r.ok) return;
  const p = r.principal;
  tt.equal(p.method, 'introspection');
  tt.equal(p.subject, 'user-alice');
  tt.equal(p.source, 'corp-idp');
  tt.equal(p.environment, 'prod');
  tt.equal(p.consumer, undefined);
  tt.same([...p.scopes].sort(), ['orders:read', 'orders:write']);
  tt.same([...p.roles].sort(), ['admin', 'devs', 'ops']);
  tt.equal(p.claims.tenant, 'acme');
  tt.equal(p.claims.client_id, 'app-1');
  tt.equal(p.expiresAt, p.claims.exp);
  tt.ok(p.expiresAt! > nowSec());

  const req = endpoint.seen.at(-1)!;
  tt.equal(req.contentType, 'application/x-www-form-urlencoded');
  tt.equal(req.params.get('token'), 'active.alice');
  tt.equal(req.params.get('token_type_hint'), 'access_token');
});

t.test('subject falls back to username, then client_id', async (tt) => {
  const { log } = capturingLogger();
  const intro = new Introspector(config(endpoint.url), { log });
  const client = await intro.introspect('slowactive.x');
  tt.match(client, { ok: true, principal: { subject: 'svc-batch' } });
  if (client.ok) {
    tt.equal(client.principal.scopes.size, 0);
    tt.equal(client.principal.roles.size, 0);
  }
  const exp = nowSec() + 30;
  tt.match(await intro.introspect(`shortlived.${exp}`), { ok: true, principal: { subject: 'short', expiresAt: exp } });
  const noexp = await intro.introspect('noexp');
  tt.match(noexp, { ok: true, principal: { subject: 'noexp' } });
  if (noexp.ok) tt.equal(noexp.principal.expiresAt, undefined);
  tt.match(await intro.introspect('nosubject'), { ok: false, error: 'invalid_token' }, 'active without any subject');
  tt.match(await intro.introspect('refresh'), { ok: false, error: 'invalid_token' }, 'a refresh token is not an access token');
});

t.test('inactive token → invalid_token', async (tt) => {
  const { log } = capturingLogger();
  const intro = new Introspector(config(endpoint.url), { log });
  tt.match(await intro.introspect('revoked-token-1'), { ok: false, error: 'invalid_token' });
});

t.test('cache: 5 sequential uses → 1 call; inactive answers cached too', async (tt) => {
  const { log } = capturingLogger();
  const intro = new Introspector(config(endpoint.url), { log });
  const results = [];
  for (let i = 0; i < 5; i++) results.push(await intro.introspect('active.cached'));
  tt.equal(endpoint.count('active.cached'), 1);
  tt.ok(results.every((r) => r.ok && r.principal.subject === 'user-cached'));
  tt.equal(results[0], results[4], 'the same cached result');

  for (let i = 0; i < 5; i++) tt.match(await intro.introspect('inactive-cached'), { ok: false, error: 'invalid_token' });
  tt.equal(endpoint.count('inactive-cached'), 1);
  tt.equal(intro.cacheSize, 2);

  // Another Introspector has its own cache.
  const other = new Introspector(config(endpoint.url), { log });
  await other.introspect('active.cached');
  tt.equal(endpoint.count('active.cached'), 2);
});

t.test('coalescing: 10 concurrent → 1 call', async (tt) => {
  const { log } = capturingLogger();
  const intro = new Introspector(config(endpoint.url), { log });
  const results = await Promise.all(Array.from({ length: 10 }, () => intro.introspect('slowactive.coalesce')));
  tt.equal(endpoint.count('slowactive.coalesce'), 1);
  tt.ok(results.every((r) => r.ok && r.principal.subject === 'svc-batch'));

  // Concurrent failures are shared too, and not cached.
  const fails = await Promise.all(Array.from({ length: 10 }, () => intro.introspect('boom500.coalesce')));
  tt.equal(endpoint.count('boom500.coalesce'), 1);
  tt.ok(fails.every((r) => !r.ok && r.error === 'unavailable'));
  await intro.introspect('boom500.coalesce');
  tt.equal(endpoint.count('boom500.coalesce'), 2, 'unavailable is never cached');
});

// The two lifetime checks wait out real seconds; their tokens are their own,
// so they wait side by side.
t.test('cache lifetimes', async (lifetimes) => {
  lifetimes.jobs = 2;
  lifetimes.test('cache lifetime is bounded by exp', async (tt) => {
    const { log } = capturingLogger();
    const intro = new Introspector(config(endpoint.url, { cacheMaxSec: 60 }), { log });
    // exp one second from now (at least 0.5 s away so the first two calls are before it).
    const exp = Math.ceil((Date.now() + 1000) / 1000);
    const token = `shortlived.${exp}`;
    tt.match(await intro.introspect(token), { ok: true, principal: { expiresAt: exp } });
    tt.match(await intro.introspect(token), { ok: true });
    tt.equal(endpoint.count(token), 1);
    await sleep(exp * 1000 - Date.now() + 200);
    tt.match(await intro.introspect(token), { ok: false, error: 'invalid_token' }, 'asked again; now inactive');
    tt.equal(endpoint.count(token), 2);

    // As stated: exp one second ahead (by the clock's second), asked again 1.2 s later.
    const exp2 = nowSec() + 1;
    const token2 = `shortlived.${exp2}`;
    await intro.introspect(token2);
    tt.equal(endpoint.count(token2), 1);
    await sleep(1200);
    await intro.introspect(token2);
    tt.equal(endpoint.count(token2), 2, 'the cached answer did not outlive exp');
  });

  lifetimes.test('cache lifetime is bounded by cacheMaxSec; 0 disables the cache', async (tt) => {
    const { log } = capturingLogger();
    const intro = new Introspector(config(endpoint.url, { cacheMaxSec: 1 }), { log });
    await intro.introspect('active.maxsec');
    await intro.introspect('active.maxsec');
    tt.equal(endpoint.count('active.maxsec'), 1);
    await sleep(1200);
    await intro.introspect('active.maxsec');
    tt.equal(endpoint.count('active.maxsec'), 2);

    const uncached = new Introspector(config(endpoint.url, { cacheMaxSec: 0 }), { log });
    for (let i = 0; i < 3; i++) tt.match(await uncached.introspect('active.nocache'), { ok: true });
    tt.equal(endpoint.count('active.nocache'), 3);
    tt.equal(uncached.cacheSize, 0);
  });
});

t.test('the cache is bounded', async (tt) => {
  const { log } = capturingLogger();
  const intro = new Introspector(config(endpoint.url), { log, cacheEntries: 3 });
  for (let i = 0; i < 10; i++) await intro.introspect(`active.bounded${i}`);
  tt.equal(intro.cacheSize, 3);
  await intro.introspect('active.bounded9');
  tt.equal(endpoint.count('active.bounded9'), 1, 'recent entry kept');
  await intro.introspect('active.bounded0');
  tt.equal(endpoint.count('active.bounded0'), 2, 'oldest entry evicted');
});

t.test('endpoint failures → unavailable, never active', async (tt) => {
  const { log, lines } = capturingLogger();
  const intro = new Introspector(config(endpoint.url, { timeoutMs: 300 }), { log });
  for (const token of ['boom500', 'garbage', 'html', 'notactivebool', 'array', 'huge', 'hugechunked', 'redirect']) {
    const r = await intro.introspect(token);
    tt.match(r, { ok: false, error: 'unavailable' }, token);
  }
  const started = Date.now();
  tt.match(await intro.introspect('slow'), { ok: false, error: 'unavailable', reason: /timed out/ }, 'timeout');
  tt.ok(Date.now() - started < 900, 'did not wait for the slow answer');
  tt.equal(endpoint.count('redirect'), 1, 'redirect not followed');
  tt.equal(lines.filter((l) => l.level === 50).length, 9, 'one error line each');
  tt.equal(intro.cacheSize, 0);
});

t.test('endpoint down → unavailable', async (tt) => {
  const down = createServer();
  down.listen(0, '127.0.0.1');
  await once(down, 'listening');
  const port = (down.address() as AddressInfo).port;
  down.close();
  await once(down, 'close');
  const { log, lines } = capturingLogger();
  const intro = new Introspector(config(`http://127.0.0.1:${port}/introspect`), { log });
  const r = await intro.introspect('active.down');
  tt.match(r, { ok: false, error: 'unavailable' });
  tt.equal(lines.length, 1);
  tt.match(lines[0], { level: 50, introspection: 'corp-idp', reason: /ECONNREFUSED|fetch failed/ });
  // Not cached: asked again next time.
  tt.match(await intro.introspect('active.down'), { ok: false, error: 'unavailable' });
  tt.equal(lines.length, 2);
});

t.test('wrong client secret (401) → unavailable and an error log line', async (tt) => {
  const { log, lines, raw } = capturingLogger();
  const intro = new Introspector(config(endpoint.url, { clientSecret: { env: 'ZTGATE_TEST_INTROSPECTION_WRONG' } }), { log });
  const before = endpoint.rejected;
  const token = 'active.wrongsecret';
  tt.match(await intro.introspect(token), { ok: false, error: 'unavailable' });
  tt.equal(endpoint.rejected, before + 1);
  tt.equal(lines.length, 1);
  tt.match(lines[0], { level: 50, introspection: 'corp-idp', endpoint: endpoint.url, reason: /HTTP 401/, msg: 'token introspection failed' });
  tt.notOk(raw.join('').includes(token), 'the token is never logged');
  tt.notOk(raw.join('').includes('not-the-secret'), 'the secret is never logged');
});

t.test('client secret from a file, read once at construction', async (tt) => {
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-introspect-'));
  const file = join(dir, 'secret');
  writeFileSync(file, CLIENT_SECRET + '\n');
  const { log } = capturingLogger();
  const intro = new Introspector(config(endpoint.url, { clientSecret: { file } }), { log });
  writeFileSync(file, 'changed');
  tt.match(await intro.introspect('active.filesecret'), { ok: true });
  tt.throws(() => new Introspector(config(endpoint.url, { clientSecret: { env: 'ZTGATE_TEST_UNSET_VAR' } }), { log }), /not set/);
});

t.test('bad tokens → invalid_request without a call', async (tt) => {
  const { log } = capturingLogger();
  const intro = new Introspector(config(endpoint.url), { log });
  const before = endpoint.total;
  tt.match(await intro.introspect('a'.repeat(MAX_TOKEN_LENGTH + 1)), { ok: false, error: 'invalid_request' }, 'over 8 KB');
  tt.match(await intro.introspect(''), { ok: false, error: 'invalid_request' }, 'empty');
  tt.match(await intro.introspect('abc def'), { ok: false, error: 'invalid_request' }, 'space');
  tt.match(await intro.introspect('abc\ndef'), { ok: false, error: 'invalid_request' }, 'newline');
  tt.equal(endpoint.total, before, 'the endpoint was not called');
  // Exactly 8 KB is asked about.
  tt.match(await intro.introspect('b'.repeat(MAX_TOKEN_LENGTH)), { ok: false, error: 'invalid_token' });
  tt.equal(endpoint.total, before + 1);
});
