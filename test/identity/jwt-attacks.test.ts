/**
 * Bad input and known JWT attacks, each refused with an RFC 6750 code:
 * invalid_request for tokens that are not a JWT at all, invalid_token for the
 * rest. Runs the verifier from dist with its worker pool.
 */
import t, { type Test } from 'tap';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { AuthResult } from '../../src/identity/types.js';
import { b64, distVerifier, issuerConfig, makeKey, now, signToken, silentLog, startIssuer } from './fixtures-jwt.js';

const { JwtVerifier, MAX_TOKEN_LENGTH } = await distVerifier();

const es = await makeKey('ES256', 'es-1');
const rs = await makeKey('RS256', 'rs-1');
const attacker = await makeKey('ES256', 'es-1'); // same kid, other key
const idp = await startIssuer([es.publicJwk, rs.publicJwk]);
t.teardown(() => idp.close());

process.env.ZTGATE_TEST_JWT_HMAC2 = 'the-real-hmac-secret-for-the-mixed-issuer!';
const rsaPem = createPublicKey({ key: rs.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;

const verifier = new JwtVerifier(
  [
    issuerConfig('idp', idp.url, { jwksUri: idp.jwksUri, clockSkewSec: 5, maxFetchesPerMinute: 30 }),
    issuerConfig('mixed', 'https://mixed.example', {
      jwks: [rs.publicJwk as Record<string, unknown>],
      algorithms: ['RS256', 'HS256'],
      hmacSecret: { env: 'ZTGATE_TEST_JWT_HMAC2' },
    }),
    issuerConfig('strict', 'https://strict.example', {
      jwks: [es.publicJwk as Record<string, unknown>],
      maxTokenAgeSec: 60,
      requiredClaims: ['tenant'],
      clockSkewSec: 0,
    }),
  ],
  { workers: 2, log: silentLog },
);
await verifier.start();
t.teardown(() => verifier.close());

const ISS = idp.url;
const valid = await signToken(es, ISS);
const [vh, vp] = valid.split('.') as [string, string, string];

async function refused(t: Test, token: string, error: 'invalid_token' | 'invalid_request', why: string, issuers = ['idp']) {
  const result: AuthResult = await verifier.verify(token, issuers);
  t.match(result, { ok: false, error }, why, result.ok ? { got: 'accepted' } : { reason: result.reason });
}

t.test('control: a valid token is accepted', async (t) => {
  const r = await verifier.verify(valid, ['idp']);
  t.ok(r.ok);
});

t.test('alg none in any casing, signed or not, refused before any crypto', async (t) => {
  for (const alg of ['none', 'NONE', 'nOnE', 'None']) {
    for (const sig of ['', vp.slice(0, 43)]) {
      const token = `${b64({ alg, typ: 'JWT' })}.${vp}.${sig}`;
      const r = verifier.verify(token, ['idp']);
      t.notOk(r instanceof Promise, `${alg}: synchronous refusal`);
      await refused(t, token, 'invalid_token', `alg ${alg}${sig ? ' with a signature' : ''}`);
    }
  }
  await refused(t, `${b64({ typ: 'JWT' })}.${vp}.`, 'invalid_token', 'no alg');
  await refused(t, `${b64({ alg: 'es256', kid: 'es-1' })}.${vp}.${valid.split('.')[2]}`, 'invalid_token', 'alg in the wrong case');
  await refused(t, `${b64({ alg: 'HS256', kid: 'es-1' })}.${vp}.${valid.split('.')[2]}`, 'invalid_token', 'alg not allowed for the issuer');
});

t.test('HS256 signed with the RSA public key as the secret', async (t) => {
  const pemSecret = new TextEncoder().encode(rsaPem);
  const forRsaIssuer = await signToken({ alg: 'HS256', kid: 'rs-1', secret: pemSecret }, ISS);
  await refused(t, forRsaIssuer, 'invalid_token', 'issuer without HS256');
  const forMixed = await signToken({ alg: 'HS256', kid: 'rs-1', secret: pemSecret }, 'https://mixed.example');
  await refused(t, forMixed, 'invalid_token', 'issuer allowing RS256 and HS256: the RSA key is never an HMAC secret', ['mixed']);
  const derSecret = new Uint8Array(createPublicKey(rsaPem).export({ type: 'spki', format: 'der' }));
  await refused(t, await signToken({ alg: 'HS256', secret: derSecret }, 'https://mixed.example'), 'invalid_token', 'DER as secret', ['mixed']);
  // control: the mixed issuer's real secret and RSA key both work
  const real = new TextEncoder().encode(process.env.ZTGATE_TEST_JWT_HMAC2);
  t.ok((await verifier.verify(await signToken({ alg: 'HS256', secret: real }, 'https://mixed.example'), ['mixed'])).ok, 'control HS256');
  t.ok((await verifier.verify(await signToken(rs, 'https://mixed.example'), ['mixed'])).ok, 'control RS256');
});

t.test('ECDSA signature with r = s = 0', async (t) => {
  const zero = Buffer.alloc(64).toString('base64url');
  await refused(t, `${vh}.${vp}.${zero}`, 'invalid_token', 'r=s=0 (64 zero bytes)');
  await refused(t, `${vh}.${vp}.`, 'invalid_token', 'empty signature');
  await refused(t, `${vh}.${vp}.${Buffer.alloc(72).toString('base64url')}`, 'invalid_token', 'wrong length zero signature');
  const other = await signToken(attacker, ISS); // attacker key under the real kid
  await refused(t, other, 'invalid_token', 'signed by another key with the same kid');
});

t.test('keys named or carried by the token are refused, and never fetched', async (t) => {
  const before = idp.requests.length;
  const jwks = `${idp.url}/attacker-jwks`;
  await refused(t, await signToken(attacker, ISS, { header: { jwk: attacker.publicJwk } }), 'invalid_token', 'embedded jwk');
  await refused(t, await signToken(attacker, ISS, { header: { jku: jwks, kid: 'other' } }), 'invalid_token', 'jku');
  await refused(t, await signToken(attacker, ISS, { header: { x5u: `${idp.url}/attacker-cert`, kid: 'other' } }), 'invalid_token', 'x5u');
  await refused(t, await signToken(attacker, ISS, { header: { x5c: ['MIIB'] } }), 'invalid_token', 'x5c');
  t.equal(idp.count('/attacker-jwks'), 0, 'jku URL never requested');
  t.equal(idp.count('/attacker-cert'), 0, 'x5u URL never requested');
  t.equal(idp.requests.length, before, 'no request at all');
});

t.test('hostile kid values are only map keys', async (t) => {
  for (const kid of ['../../dev/null', "' OR 1=1--", '/etc/passwd', '%2e%2e%2f']) {
    await refused(t, await signToken({ ...es, kid }, ISS), 'invalid_token', `kid ${kid}`);
  }
  for (const [kid, why] of [
    ['a\nb', 'control character'],
    ['x'.repeat(257), 'over 256 characters'],
    ['', 'empty'],
    [42, 'not a string'],
  ] as const) {
    await refused(t, `${b64({ alg: 'ES256', kid })}.${vp}.${valid.split('.')[2]}`, 'invalid_token', `kid ${why}`);
  }
  t.ok(
    idp.requests.every((p) => p === '/jwks'),
    'the issuer only ever saw JWKS requests',
  );
});

t.test('unknown crit', async (t) => {
  await refused(t, await signToken(es, ISS, { header: { crit: ['urn:example:ext'], 'urn:example:ext': 1 } }), 'invalid_token', 'crit');
  const handMade = `${b64({ alg: 'ES256', kid: 'es-1', crit: ['exp'] })}.${vp}.${valid.split('.')[2]}`;
  await refused(t, handMade, 'invalid_token', 'crit naming a registered claim');
  await refused(t, `${b64({ alg: 'ES256', kid: 'es-1', crit: [] })}.${vp}.${valid.split('.')[2]}`, 'invalid_token', 'empty crit');
});

t.test('claims', async (t) => {
  const n = now();
  await refused(t, await signToken(es, ISS, { claims: { exp: n - 60 } }), 'invalid_token', 'expired');
  await refused(t, await signToken(es, ISS, { claims: { nbf: n + 60 } }), 'invalid_token', 'not yet valid');
  await refused(t, await signToken(es, ISS, { claims: { iat: n + 60 } }), 'invalid_token', 'iat in the future');
  await refused(t, await signToken(es, 'https://other.example'), 'invalid_token', 'wrong iss');
  await refused(t, await signToken(es, ISS, { claims: { aud: 'api://other' } }), 'invalid_token', 'wrong aud');
  await refused(t, await signToken(es, ISS, { claims: { aud: undefined } }), 'invalid_token', 'no aud');
  await refused(t, await signToken(es, ISS, { claims: { exp: undefined } }), 'invalid_token', 'missing exp');
  await refused(t, await signToken(es, ISS, { claims: { exp: 'tomorrow' } }), 'invalid_token', 'exp not a number');
  await refused(t, await signToken(es, ISS, { claims: { iss: undefined } }), 'invalid_token', 'missing iss');
  // within the clock skew (5 s): accepted
  t.ok((await verifier.verify(await signToken(es, ISS, { claims: { exp: n - 2 } }), ['idp'])).ok, 'expired within the skew');
  t.ok((await verifier.verify(await signToken(es, ISS, { claims: { nbf: n + 2, iat: n + 2 } }), ['idp'])).ok, 'nbf/iat within the skew');
  // maxTokenAgeSec 60 and requiredClaims [tenant]
  const S = 'https://strict.example';
  t.ok((await verifier.verify(await signToken(es, S, { claims: { tenant: 't' } }), ['strict'])).ok, 'control strict');
  await refused(t, await signToken(es, S, { claims: { tenant: 't', iat: n - 120 } }), 'invalid_token', 'older than maxTokenAge', ['strict']);
  await refused(t, await signToken(es, S, { claims: { tenant: 't', iat: undefined } }), 'invalid_token', 'no iat with maxTokenAge', ['strict']);
  await refused(t, await signToken(es, S), 'invalid_token', 'required claim missing', ['strict']);
  await refused(t, valid, 'invalid_token', 'issuer not allowed on this route', ['strict']);
  await refused(t, valid, 'invalid_token', 'no issuer allowed at all', []);
});

t.test('key of another family under a known kid', async (t) => {
  // An ES256 token naming the RSA key's kid: the RSA key is never offered to ES256.
  const confused = await signToken({ ...es, kid: 'rs-1' }, ISS);
  await refused(t, confused, 'invalid_token', 'ES256 with an RSA kid');
  await refused(t, `${b64({ alg: 'RS256', kid: 'es-1' })}.${vp}.${valid.split('.')[2]}`, 'invalid_token', 'RS256 with an EC kid');
});

t.test('malformed tokens', async (t) => {
  const sig = valid.split('.')[2]!;
  const big = await signToken(es, ISS, { claims: { pad: 'x'.repeat(MAX_TOKEN_LENGTH) } });
  t.ok(big.length > 8192);
  await refused(t, big, 'invalid_request', 'over 8 KB');
  await refused(t, '', 'invalid_request', 'empty');
  await refused(t, 'abc.d$f.ghi', 'invalid_request', 'garbage base64');
  await refused(t, `${vh}.${vp}`, 'invalid_request', 'two parts');
  await refused(t, `${vh}.${vp}.${sig}.${sig}`, 'invalid_request', 'four parts');
  await refused(t, `${vh}.${vp}==.${sig}`, 'invalid_request', 'padding');
  await refused(t, `${vh}.${b64('not json')}.${sig}`, 'invalid_request', 'payload not JSON');
  await refused(t, `${vh}.${b64('[1,2]')}.${sig}`, 'invalid_request', 'payload a JSON array');
  await refused(t, `${vh}.${b64('"str"')}.${sig}`, 'invalid_request', 'payload a JSON string');
  await refused(t, `${b64('{"alg":')}.${vp}.${sig}`, 'invalid_request', 'header not JSON');
  await refused(t, `${b64('null')}.${vp}.${sig}`, 'invalid_request', 'header null');
  await refused(t, `.${vp}.${sig}`, 'invalid_request', 'empty header');
  await refused(t, `${vh}.${vp}.${sig}\u00e9`, 'invalid_request', 'non-ASCII');
  await refused(t, `${vh}.${vp}.${sig.slice(0, -2)}`, 'invalid_token', 'truncated signature');
});

t.test('refusals are not cached; the valid token still is', async (t) => {
  await refused(t, `${vh}.${vp}.${Buffer.alloc(64).toString('base64url')}`, 'invalid_token', 'bad signature');
  const before = verifier.cacheSize;
  await refused(t, `${vh}.${vp}.${Buffer.alloc(64).toString('base64url')}`, 'invalid_token', 'again');
  t.equal(verifier.cacheSize, before, 'no entry for refused tokens');
  const r = verifier.verify(valid, ['idp']);
  t.notOk(r instanceof Promise, 'the valid token is cached');
});
