/**
 * JWKS handling against a real issuer on loopback: rotation, coalesced
 * refetches, the issuer going down, backoff, the per-minute fetch cap,
 * discovery checks and what a key set may contain. Verification runs on the
 * main thread here (workers: 0); the pool is covered by jwt-verify.test.ts.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { JwtVerifier } from '../../src/identity/jwt/verifier.js';
import { IssuerKeys } from '../../src/identity/jwt/key-store.js';
import type { AuthResult } from '../../src/identity/types.js';
import { issuerConfig, makeKey, signToken, silentLog, sleep, startIssuer } from './fixtures-jwt.js';

const keyA = await makeKey('ES256', 'key-a');
const keyB = await makeKey('ES256', 'key-b');

async function setup(extra: Parameters<typeof issuerConfig>[2] = {}, keys = [keyA.publicJwk], backoffBaseMs = 200) {
  const idp = await startIssuer([...keys]);
  const verifier = new JwtVerifier([issuerConfig('idp', idp.url, { jwksUri: idp.jwksUri, ...extra })], {
    workers: 0,
    log: silentLog,
    keyStore: { backoffBaseMs },
  });
  await verifier.start();
  return { idp, verifier, keys: verifier.issuer('idp')! };
}

const accepted = (r: AuthResult) => r.ok;

// Each subtest has its own issuer and verifier, and most of the time here is
// spent waiting out refresh intervals and backoffs: run them side by side.
t.jobs = 4;

t.test('key rotation: a new kid is fetched once, concurrent misses share the fetch', async (t) => {
  const { idp, verifier } = await setup();
  t.teardown(async () => {
    await verifier.close();
    await idp.close();
  });
  t.equal(idp.count('/jwks'), 1, 'loaded at start');
  t.ok(accepted(await verifier.verify(await signToken(keyA, idp.url), ['idp'])), 'old key works');
  t.equal(idp.count('/jwks'), 1, 'known kid: no fetch');

  idp.keys.push(keyB.publicJwk);
  idp.delayMs = 50; // keep the fetch in flight while the others arrive
  const tokens = await Promise.all(Array.from({ length: 20 }, () => signToken(keyB, idp.url)));
  const results = await Promise.all(tokens.map((tok) => verifier.verify(tok, ['idp'])));
  t.equal(results.filter(accepted).length, 20, 'all tokens signed with the new key accepted');
  t.equal(idp.count('/jwks'), 2, 'exactly one refetch for 20 concurrent misses');

  t.ok(accepted(await verifier.verify(await signToken(keyB, idp.url), ['idp'])), 'new key now cached');
  t.ok(accepted(await verifier.verify(await signToken(keyA, idp.url), ['idp'])), 'old key still served');
  t.equal(idp.count('/jwks'), 2, 'no further fetch');

  // The issuer retires key A: the next refresh drops it.
  idp.keys.splice(0, 1);
  t.equal(await verifier.issuer('idp')!.refresh(), true);
  t.match(await verifier.verify(await signToken(keyA, idp.url), ['idp']), { ok: false, error: 'invalid_token' }, 'retired key refused');
});

t.test('the issuer goes down: cached keys keep working', async (t) => {
  const { idp, verifier, keys } = await setup({ refreshIntervalSec: 1 });
  t.teardown(() => verifier.close());
  t.ok(keys.everLoaded);
  await idp.down();
  // A background refresh fails meanwhile (interval 1 s).
  await sleep(1300);
  t.ok(accepted(await verifier.verify(await signToken(keyA, idp.url), ['idp'])), 'known kid accepted while the issuer is down');
  const unknown = await verifier.verify(await signToken(keyB, idp.url), ['idp']);
  t.match(unknown, { ok: false, error: 'invalid_token' }, 'unknown kid refused (fetch failed), not "unavailable"');
  t.ok(accepted(await verifier.verify(await signToken(keyA, idp.url), ['idp'])), 'cached set survives the failed refetch');
  t.equal(keys.size, 1);
  t.ok(keys.everLoaded);
});

t.test('failed fetches back off exponentially', async (t) => {
  // A backoff of 1 s, and tokens signed before the clock matters: the misses that must fall inside
  // a backoff take milliseconds, however busy the machine (with 200 ms and a signature per miss,
  // a loaded machine let the backoff pass between misses).
  const base = 1000;
  const { idp, verifier, keys } = await setup({}, [keyA.publicJwk], base);
  t.teardown(async () => {
    await verifier.close();
    await idp.close();
  });
  idp.respond = (res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{}');
  };
  const tokens = await Promise.all(Array.from({ length: 9 }, () => signToken(keyB, idp.url)));
  const before = idp.count('/jwks');
  const miss = async () => verifier.verify(tokens.pop()!, ['idp']);
  t.match(await miss(), { ok: false, error: 'invalid_token' });
  t.equal(idp.count('/jwks'), before + 1, 'first miss fetched');
  for (let i = 0; i < 5; i++) t.match(await miss(), { ok: false, error: 'invalid_token' });
  t.equal(idp.count('/jwks'), before + 1, 'misses during the backoff do not fetch');
  await sleep(base + 150); // past the first backoff
  await miss();
  t.equal(idp.count('/jwks'), before + 2, 'fetched again after the backoff');
  await sleep(base + 150); // the second backoff is 2 s: not yet
  await miss();
  t.equal(idp.count('/jwks'), before + 2, 'the second backoff is longer');
  t.equal(keys.size, 1, 'cached key kept through failures');
  idp.respond = undefined;
  idp.keys.push(keyB.publicJwk);
  await sleep(base);
  t.ok(accepted(await miss()), 'recovered after the backoff');
});

t.test('fetch cap: 100 random unknown kids cause at most maxFetchesPerMinute fetches', async (t) => {
  const cap = 5;
  const { idp, verifier } = await setup({ maxFetchesPerMinute: cap });
  t.teardown(async () => {
    await verifier.close();
    await idp.close();
  });
  let sync = 0;
  const results: AuthResult[] = [];
  for (let i = 0; i < 100; i++) {
    const token = await signToken({ ...keyA, kid: randomUUID() }, idp.url);
    const r = verifier.verify(token, ['idp']);
    if (!(r instanceof Promise)) sync++;
    results.push(await r);
  }
  t.ok(results.every((r) => !r.ok && r.error === 'invalid_token'), 'all refused as invalid_token');
  t.ok(idp.count('/jwks') <= cap, `fetches ${idp.count('/jwks')} <= ${cap}`);
  t.ok(idp.count('/jwks') >= 2, 'unknown kids did cause refetches until the cap');
  t.ok(sync >= 90, `beyond the cap unknown kids fail fast (synchronously): ${sync}`);
  t.ok(accepted(await verifier.verify(await signToken(keyA, idp.url), ['idp'])), 'known kid unaffected');
  // Concurrent random kids in one burst: one fetch at most (here none, capped).
  await Promise.all(Array.from({ length: 50 }, async () => verifier.verify(await signToken({ ...keyA, kid: randomUUID() }, idp.url), ['idp'])));
  t.ok(idp.count('/jwks') <= cap);
});

t.test('never loaded: "unavailable" (the route decides), then recovery', async (t) => {
  const idp = await startIssuer([keyA.publicJwk]);
  t.teardown(() => idp.close());
  idp.respond = (res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{}');
  };
  const verifier = new JwtVerifier([issuerConfig('idp', idp.url, { jwksUri: idp.jwksUri, refreshIntervalSec: 1 })], {
    workers: 0,
    log: silentLog,
    keyStore: { backoffBaseMs: 100 },
  });
  t.teardown(() => verifier.close());
  await verifier.start(); // never throws
  const keys = verifier.issuer('idp')!;
  t.notOk(keys.everLoaded);
  t.match(await verifier.verify(await signToken(keyA, idp.url), ['idp']), { ok: false, error: 'unavailable' });
  idp.respond = undefined;
  // The background retry (backoff, bounded by the refresh interval) loads the keys.
  for (let i = 0; i < 30 && !keys.everLoaded; i++) await sleep(100);
  t.ok(keys.everLoaded, 'loaded by a background retry');
  t.ok(accepted(await verifier.verify(await signToken(keyA, idp.url), ['idp'])));
});

t.test('discovery', async (t) => {
  const idp = await startIssuer([keyA.publicJwk]);
  t.teardown(() => idp.close());
  const good = new IssuerKeys(issuerConfig('d', idp.url, { discovery: true }), silentLog);
  await good.start();
  t.teardown(() => good.stop());
  t.ok(good.everLoaded);
  t.equal(good.jwksUri, idp.jwksUri);
  t.same(idp.requests.slice(0, 2), ['/.well-known/openid-configuration', '/jwks']);
  t.equal(good.lookup('ES256', 'key-a').length, 1);

  // The discovery document names another issuer: nothing is trusted.
  idp.discoveryIssuer = 'https://evil.example';
  const before = idp.count('/jwks');
  const bad = new IssuerKeys(issuerConfig('d2', idp.url, { discovery: true }), silentLog);
  await bad.start();
  t.teardown(() => bad.stop());
  t.notOk(bad.everLoaded, 'issuer mismatch refused');
  t.equal(idp.count('/jwks'), before, 'jwks_uri of a mismatched document not fetched');
});

t.test('what a key set may contain', async (t) => {
  const idp = await startIssuer();
  t.teardown(() => idp.close());
  const ec = await makeKey('ES256', 'sig');
  const enc = await makeKey('ES256', 'enc');
  const priv = await makeKey('ES256', 'priv');
  idp.keys.push(
    ec.publicJwk,
    { ...enc.publicJwk, use: 'enc' },
    { ...priv.publicJwk, d: 'AAAA' },
    { kty: 'oct', kid: 'sym', k: 'c2VjcmV0' },
    { ...ec.publicJwk, kid: 'ops', key_ops: ['encrypt'] },
    { ...ec.publicJwk, kid: 'x'.repeat(300) },
    { kty: 'EC', kid: 'junk', crv: 'P-256', x: 'AAAA', y: 'AAAA' },
    { ...ec.publicJwk, kid: 'hs-alg', alg: 'HS256' },
  );
  const keys = new IssuerKeys(issuerConfig('k', idp.url, { jwksUri: idp.jwksUri }), silentLog);
  await keys.start();
  t.teardown(() => keys.stop());
  t.equal(keys.size, 1, 'only the public signing key is kept');
  t.equal(keys.lookup('ES256', 'sig').length, 1);
  for (const kid of ['enc', 'priv', 'sym', 'ops', 'junk', 'hs-alg']) t.same(keys.lookup('ES256', kid), [], kid);
  t.same(keys.lookup('RS256', 'sig'), [], 'an EC key is never offered to RS256');
  t.same(keys.lookup('ES384', 'sig'), [], 'nor to another curve');
  t.same(keys.lookup('HS256', 'sig'), [], 'nor to HMAC');

  // Bounded: at most maxKeys keys.
  const many = await startIssuer(Array.from({ length: 10 }, (_, i) => ({ ...ec.publicJwk, kid: `k${i}` })));
  t.teardown(() => many.close());
  const bounded = new IssuerKeys(issuerConfig('m', many.url, { jwksUri: many.jwksUri }), silentLog, { maxKeys: 4 });
  await bounded.start();
  t.teardown(() => bounded.stop());
  t.equal(bounded.size, 4);
});

t.test('responses that are refused', async (t) => {
  const idp = await startIssuer([keyA.publicJwk]);
  t.teardown(() => idp.close());
  const tryWith = async (respond: NonNullable<typeof idp.respond>, options = {}) => {
    idp.respond = respond;
    const keys = new IssuerKeys(issuerConfig('r', idp.url, { jwksUri: idp.jwksUri }), silentLog, options);
    await keys.start();
    keys.stop();
    return keys.everLoaded;
  };
  const body = JSON.stringify({ keys: [keyA.publicJwk] });
  t.ok(
    await tryWith((res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(body);
    }),
    'control: JSON accepted',
  );
  t.notOk(
    await tryWith((res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(body);
    }),
    'not JSON content-type',
  );
  t.notOk(
    await tryWith((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [keyA.publicJwk], pad: 'x'.repeat(2 * 1024 * 1024) }));
    }),
    'over 1 MiB',
  );
  t.notOk(
    await tryWith((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(body.slice(0, 10)); // ... and never finishes
    }, { fetchTimeoutMs: 300 }),
    'timeout',
  );
  t.notOk(
    await tryWith((res) => {
      res.writeHead(302, { location: `${idp.url}/jwks` });
      res.end();
    }),
    'redirect not followed',
  );
  t.notOk(
    await tryWith((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"keys": [');
    }),
    'invalid JSON',
  );
});

t.test('stop() clears the refresh timer', async (t) => {
  const idp = await startIssuer([keyA.publicJwk]);
  t.teardown(() => idp.close());
  const keys = new IssuerKeys(issuerConfig('s', idp.url, { jwksUri: idp.jwksUri, refreshIntervalSec: 1 }), silentLog);
  await keys.start();
  keys.stop();
  const count = idp.count('/jwks');
  await sleep(1200);
  t.equal(idp.count('/jwks'), count, 'no refresh after stop');
});
