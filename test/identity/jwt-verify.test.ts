/**
 * JwtVerifier from dist (worker pool): valid tokens of every family, the
 * principal, key sources (JWKS URL, discovery, inline JWK, PEM key and
 * certificate), the verified-token cache.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8 } from 'jose';
import type { AuthResult } from '../../src/identity/types.js';
import { distVerifier, issuerConfig, makeKey, now, signToken, silentLog, sleep, startIssuer } from './fixtures-jwt.js';

const { JwtVerifier } = await distVerifier();

const es = await makeKey('ES256', 'es-1');
const rs = await makeKey('RS256', 'rs-1');
const ed = await makeKey('EdDSA', 'ed-1');
const ps = await makeKey('PS256', 'ps-1');
const idp = await startIssuer([es.publicJwk, rs.publicJwk, ed.publicJwk, ps.publicJwk]);
t.teardown(() => idp.close());

process.env.ZTGATE_TEST_JWT_HMAC = 'an-hmac-secret-of-at-least-thirty-two-bytes!';
const hmacSecret = new TextEncoder().encode(process.env.ZTGATE_TEST_JWT_HMAC);

// A PEM public key file, and a self-signed certificate made with openssl.
const dir = mkdtempSync(join(tmpdir(), 'ztgate-jwt-'));
const pemKey = await makeKey('ES256', 'unused');
const spkiPath = join(dir, 'key.pem');
writeFileSync(spkiPath, createPublicKey({ key: pemKey.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }));
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'cert.key', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=jwt-signer'], { cwd: dir, stdio: 'pipe' });
const certSigner = { alg: 'ES256', kid: 'from-cert', privateKey: await importPKCS8(readFileSync(join(dir, 'cert.key'), 'utf8'), 'ES256'), publicJwk: {} };

const verifier = new JwtVerifier(
  [
    issuerConfig('remote', idp.url, { jwksUri: idp.jwksUri, environment: 'prod', roleClaims: ['roles', 'realm_access.roles'] }),
    issuerConfig('oidc', idp.url, { discovery: true, environment: 'staging' }),
    issuerConfig('inline', 'https://inline.example', { jwks: [ed.publicJwk as Record<string, unknown>] }),
    issuerConfig('pem', 'https://pem.example', { pemFiles: [spkiPath, join(dir, 'cert.pem')], algorithms: ['ES256'] }),
    issuerConfig('hmac', 'https://hmac.example', { algorithms: ['HS256'], hmacSecret: { env: 'ZTGATE_TEST_JWT_HMAC' }, environment: 'dev' }),
    issuerConfig('short', 'https://short.example', { jwks: [es.publicJwk as Record<string, unknown>], clockSkewSec: 0 }),
  ],
  { workers: 2, log: silentLog },
);
await verifier.start();
t.teardown(() => verifier.close());

const ok = (t: Test, r: AuthResult, msg: string) => {
  t.ok(r.ok, msg, r.ok ? {} : { error: r.error, reason: r.reason });
  return r.ok ? r.principal : undefined;
};

t.test('every issuer loaded its keys at start', async (t) => {
  for (const name of ['remote', 'oidc', 'inline', 'pem', 'short']) t.ok(verifier.issuer(name)?.everLoaded, name);
  t.equal(verifier.issuer('oidc')?.jwksUri, idp.jwksUri, 'jwks_uri came from discovery');
  t.equal(verifier.issuer('pem')?.size, 2, 'SPKI key and certificate key');
  t.equal(verifier.issuer('nope'), undefined);
});

t.test('valid tokens of each algorithm family are accepted', async (t) => {
  for (const key of [es, rs, ed, ps]) {
    const token = await signToken(key, idp.url);
    const p = ok(t, await verifier.verify(token, ['remote']), key.alg);
    t.equal(p?.source, 'remote');
  }
  ok(t, await verifier.verify(await signToken({ alg: 'HS256', secret: hmacSecret }, 'https://hmac.example'), ['hmac']), 'HS256');
  ok(t, await verifier.verify(await signToken(ed, 'https://inline.example'), ['inline']), 'inline JWK');
  ok(t, await verifier.verify(await signToken({ ...pemKey, kid: undefined } as never, 'https://pem.example'), ['pem']), 'PEM public key, no kid');
  ok(t, await verifier.verify(await signToken(certSigner, 'https://pem.example'), ['pem']), 'PEM certificate, token kid falls back to kid-less keys');
});

t.test('discovery issuer, and the issuer is chosen among the allowed ones', async (t) => {
  const token = await signToken(es, idp.url);
  const p = ok(t, await verifier.verify(token, ['oidc']), 'via discovery');
  t.equal(p?.source, 'oidc');
  t.equal(p?.environment, 'staging');
  const other = await verifier.verify(await signToken(es, idp.url), ['inline', 'hmac']);
  t.match(other, { ok: false, error: 'invalid_token' }, 'iss of an issuer this route does not allow');
});

t.test('principal', async (t) => {
  const token = await signToken(rs, idp.url, {
    claims: { sub: 'alice', scope: 'orders:read  orders:write', roles: ['admin', 'ops'], realm_access: { roles: ['auditor'] }, tenant: 't1' },
  });
  const p = ok(t, await verifier.verify(token, ['remote']), 'accepted')!;
  t.equal(p.method, 'jwt');
  t.equal(p.subject, 'alice');
  t.equal(p.source, 'remote');
  t.equal(p.environment, 'prod');
  t.same([...p.scopes].sort(), ['orders:read', 'orders:write']);
  t.same([...p.roles].sort(), ['admin', 'auditor', 'ops']);
  t.equal(p.claims.tenant, 't1');
  t.type(p.expiresAt, 'number');
  const arrayScopes = ok(t, await verifier.verify(await signToken(es, idp.url, { claims: { scope: ['a', 'b'] } }), ['remote']), 'array scope')!;
  t.same([...arrayScopes.scopes].sort(), ['a', 'b']);
  const noSub = await verifier.verify(await signToken(es, idp.url, { claims: { sub: undefined } }), ['remote']);
  t.match(noSub, { ok: false, error: 'invalid_token' }, 'no sub');
});

t.test('many distinct tokens at once (batched over the pool)', async (t) => {
  const keys = [es, rs, ed, ps];
  const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => signToken(keys[i % 4]!, idp.url, { claims: { sub: `u${i}` } })));
  // One bad signature in the middle of a batch fails alone.
  const bad = tokens[77]!.slice(0, -4) + (tokens[77]!.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const results = await Promise.all([...tokens.map((tok) => verifier.verify(tok, ['remote'])), verifier.verify(bad, ['remote'])]);
  const accepted = results.slice(0, 200).filter((r) => r.ok);
  t.equal(accepted.length, 200, 'all valid tokens accepted');
  t.same(
    results.slice(0, 200).map((r) => (r.ok ? r.principal.subject : '')),
    tokens.map((_, i) => `u${i}`),
    'each result belongs to its token',
  );
  t.match(results[200], { ok: false, error: 'invalid_token' }, 'tampered signature refused');
});

t.test('a repeated token is answered synchronously from the cache', async (t) => {
  const token = await signToken(es, idp.url);
  const first = verifier.verify(token, ['remote']);
  t.ok(first instanceof Promise, 'first verification is asynchronous');
  ok(t, await first, 'first');
  const second = verifier.verify(token, ['remote']);
  t.notOk(second instanceof Promise, 'second is not a Promise');
  ok(t, second as AuthResult, 'second');
  // Another route with a different issuer set does not get the cached answer.
  t.match(await verifier.verify(token, ['inline']), { ok: false, error: 'invalid_token' });
  // Failed verifications are not cached.
  const bad = token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA');
  t.match(await verifier.verify(bad, ['remote']), { ok: false });
  t.match(await verifier.verify(bad, ['remote']), { ok: false }, 'still refused');
  const hmacToken = await signToken({ alg: 'HS256', secret: hmacSecret }, 'https://hmac.example');
  ok(t, await verifier.verify(hmacToken, ['hmac']), 'HS256');
  t.notOk(verifier.verify(hmacToken, ['hmac']) instanceof Promise, 'HS256 repeat is synchronous too');
});

t.test('an expired cached token is refused', async (t) => {
  const exp = now() + 1;
  const token = await signToken(es, 'https://short.example', { claims: { exp } });
  ok(t, await verifier.verify(token, ['short']), 'accepted while valid');
  t.notOk(verifier.verify(token, ['short']) instanceof Promise, 'cached');
  await sleep(exp * 1000 - Date.now() + 50);
  const after = await verifier.verify(token, ['short']);
  t.match(after, { ok: false, error: 'invalid_token' }, 'refused after exp');
  t.match((after as { reason: string }).reason, /exp/);
});
