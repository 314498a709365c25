/**
 * signature.ts: keys are prepared only for the algorithm they fit, and a
 * signature is checked by node:crypto with that algorithm's parameters.
 */
import t from 'tap';
import { generateKeyPairSync, sign, constants } from 'node:crypto';
import { pathToFileURL, fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../dist/identity/jwt/signature.js', import.meta.url));
const { prepareKey, signatureValid, checkSignature, SigningKeys } = (await import(pathToFileURL(dist).href)) as typeof import('../../src/identity/jwt/signature.js');

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwkOf = (k: { publicKey: import('node:crypto').KeyObject }) => k.publicKey.export({ format: 'jwk' }) as Record<string, string>;

function es256(input: string, key = ec.privateKey, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): string {
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding }).toString('base64url')}`;
}
const input = `${b64({ alg: 'ES256' })}.${b64({ sub: 'x' })}`;

t.test('keys fit their algorithm only', async (t) => {
  t.type(prepareKey(jwkOf(ec) as never, 'ES256'), 'object', 'P-256 for ES256');
  t.match(prepareKey(jwkOf(ec) as never, 'ES384'), /does not fit/, 'P-256 refused for ES384');
  t.match(prepareKey(jwkOf(ec384) as never, 'ES256'), /does not fit/, 'P-384 refused for ES256');
  t.match(prepareKey(jwkOf(ec) as never, 'RS256'), /does not fit/, 'EC refused for RS256');
  t.match(prepareKey(jwkOf(rsa1024) as never, 'RS256'), /2048/, '1024-bit RSA refused');
  t.type(prepareKey(jwkOf(rsa) as never, 'PS256'), 'object', '2048-bit RSA for PS256');
  t.match(prepareKey({ ...jwkOf(ec), d: 'AAAA' } as never, 'ES256'), /does not fit/, 'a private member refused');
  t.match(prepareKey(jwkOf(ec) as never, 'HS256'), /not an asymmetric/, 'HS256 never gets a public key');
});

t.test('ES256: raw r||s only, over the exact input', async (t) => {
  const key = prepareKey(jwkOf(ec) as never, 'ES256');
  if (typeof key === 'string') throw new Error(key);
  t.ok(signatureValid(es256(input), key), 'valid');
  t.notOk(signatureValid(es256(input, ec.privateKey, 'der'), key), 'a DER signature is refused');
  t.notOk(signatureValid(es256(input).replace(input, `${input}x`), key), 'other input refused');
  t.notOk(signatureValid(`${input}.`, key), 'empty signature refused');
  t.notOk(signatureValid(es256(input, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), key), 'another key refused');
});

t.test('PS256: the salt length is the digest length', async (t) => {
  const key = prepareKey(jwkOf(rsa) as never, 'PS256');
  if (typeof key === 'string') throw new Error(key);
  const pss = (saltLength: number) =>
    `${input}.${sign('sha256', Buffer.from(input), { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }).toString('base64url')}`;
  t.ok(signatureValid(pss(32), key), 'salt 32 accepted');
  t.notOk(signatureValid(pss(20), key), 'salt 20 refused');
  const rs = prepareKey(jwkOf(rsa) as never, 'RS256');
  if (typeof rs === 'string') throw new Error(rs);
  t.notOk(signatureValid(pss(32), rs), 'a PSS signature is not an RS256 one');
});

t.test('checkSignature tries candidates in order and says why none did', async (t) => {
  const keys = new SigningKeys();
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const refs = [
    { id: 'other', jwk: jwkOf(other) as never },
    { id: 'mine', jwk: jwkOf(ec) as never },
  ];
  t.equal(checkSignature(es256(input), 'ES256', refs, keys, 4), true, 'second candidate verifies');
  t.match(checkSignature(es256(input), 'ES256', refs, keys, 1), /signature verification failed/, 'limited to the first: refused');
  t.match(checkSignature(es256(input), 'ES256', [{ id: 'rsa', jwk: jwkOf(rsa) as never }], keys, 4), /does not fit/, 'an unfitting key: refused with why');
});
