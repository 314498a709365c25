import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { encryptValue, loadRecipient } from '../../src/protect/encrypt.js';

const dir = mkdtempSync(join(tmpdir(), 'ztgate-jwe-'));

t.test('bad recipient keys are refused with a reason', async (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  t.throws(() => loadRecipient('x', { jwk: ec.privateKey.export({ format: 'jwk' }) }), /private key was given/);
  const pemFile = join(dir, 'priv.pem');
  writeFileSync(pemFile, ec.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  t.throws(() => loadRecipient('x', { publicKey: { file: pemFile } }), /private key was given/);
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  t.throws(() => loadRecipient('x', { jwk: small.publicKey.export({ format: 'jwk' }) }), /at least 2048 bits/);
  const ed = generateKeyPairSync('ed25519');
  t.throws(() => loadRecipient('x', { jwk: ed.publicKey.export({ format: 'jwk' }) }), /ed25519 key cannot receive/);
  t.throws(() => loadRecipient('x', { publicKey: { file: join(dir, 'missing.pem') } }), /cannot read secret file/);
  t.throws(() => loadRecipient('x', { jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } }));
});

t.test('a value encrypted for a recipient opens only with its private key', async (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const r = loadRecipient('bank', { jwk: { ...ec.publicKey.export({ format: 'jwk' }), kid: 'bank-1' } });
  const jwe = await encryptValue(r, '4111 1111 1111 1111', 'CREDIT_CARD');
  t.equal(jwe.split('.').length, 5, 'compact serialization');
  t.match(decodeProtectedHeader(jwe), { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'bank-1', 'x-ztgate-entity': 'CREDIT_CARD' });
  const { plaintext } = await compactDecrypt(jwe, ec.privateKey);
  t.equal(new TextDecoder().decode(plaintext), '4111 1111 1111 1111');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await t.rejects(compactDecrypt(jwe, other.privateKey), 'another key cannot open it');
  t.not(await encryptValue(r, '4111 1111 1111 1111'), jwe, 'fresh randomness per value');

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pemFile = join(dir, 'rsa.pub.pem');
  writeFileSync(pemFile, rsa.publicKey.export({ format: 'pem', type: 'spki' }));
  const rr = loadRecipient('bank', { publicKey: { file: pemFile } });
  t.equal(rr.alg, 'RSA-OAEP-256');
  const { plaintext: p2 } = await compactDecrypt(await encryptValue(rr, 'ada@example.com'), rsa.privateKey);
  t.equal(new TextDecoder().decode(p2), 'ada@example.com');
});
