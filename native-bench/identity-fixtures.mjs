// Identity fixtures for the bench: an ES256 issuer key (inline JWK in the
// gateway config), a repeated token, a file of distinct tokens (more than the
// gateway's verified-token cache holds, so every request is a real
// verification), and an API key with its SHA-256.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';

const b64url = (b) => Buffer.from(b).toString('base64url');

export function makeIdentityFixtures(dir, distinctCount) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench-1', alg: 'ES256', use: 'sig' };
  const header = b64url(JSON.stringify({ alg: 'ES256', kid: 'bench-1', typ: 'JWT' }));
  const now = Math.floor(Date.now() / 1000);
  const token = (i, claims = {}) => {
    const payload = b64url(JSON.stringify({ iss: 'https://bench.idp', aud: 'bench', sub: `user-${i}`, scope: 'read', iat: now, exp: now + 3600, jti: `j${i}`, ...claims }));
    const input = `${header}.${payload}`;
    // JWS ES256 wants the raw r||s signature (ieee-p1363), not DER.
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  };
  const tokensFile = `${dir}/tokens.txt`;
  const fd = fs.openSync(tokensFile, 'w');
  for (let i = 0; i < distinctCount; i++) fs.writeSync(fd, `${token(i)}\n`);
  fs.closeSync(fd);
  const apiKey = 'bench_9c1f0e7a2b4d4e6f8a0b1c2d3e4f5a6b';
  return {
    jwk,
    repeatedToken: token(-1),
    // For checking a peer before it is measured: each must be refused (401).
    refusedTokens: {
      expired: token(-2, { iat: now - 7200, exp: now - 120 }),
      'wrong audience': token(-3, { aud: 'elsewhere' }),
      'no read scope': token(-4, { scope: 'write' }),
    },
    tokensFile,
    apiKey,
    apiKeySha256: createHash('sha256').update(apiKey).digest('hex'),
  };
}
