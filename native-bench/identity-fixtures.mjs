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
  const token = (i) => {
    const payload = b64url(JSON.stringify({ iss: 'https://bench.idp', aud: 'bench', sub: `user-${i}`, scope: 'read', iat: now, exp: now + 3600, jti: `j${i}` }));
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
    tokensFile,
    apiKey,
    apiKeySha256: createHash('sha256').update(apiKey).digest('hex'),
  };
}

/** YAML for the identity section and routes appended to the bench gateway config. */
export function identityYaml(f) {
  return [
    'identity:',
    '  issuers:',
    '    - name: bench',
    '      issuer: https://bench.idp',
    '      audiences: [bench]',
    '      algorithms: [ES256]',
    `      jwks: [${JSON.stringify(f.jwk)}]`,
    '  consumers:',
    '    - name: bench-client',
    `      apiKeys: [{ sha256: ${f.apiKeySha256} }]`,
    'extraRoutes:',
    '  - name: jwt',
    '    match: { path: /jwt/* }',
    '    upstream: origin',
    '    stages: [{ type: identity, methods: [{ jwt: { issuers: [bench] } }], scopes: { allOf: [read] } }]',
    '  - name: apikey',
    '    match: { path: /key/* }',
    '    upstream: origin',
    '    stages: [{ type: identity, methods: [{ apiKey: {} }] }]',
    '  - name: ratelimited',
    '    match: { path: /rl/* }',
    '    upstream: origin',
    '    public: true',
    '    stages: [{ type: rate-limit, limits: [{ rate: 10000000/s, key: [ip] }] }]',
    '  - name: inspected',
    '    match: { path: /inspect/* }',
    '    upstream: origin',
    '    public: true',
    '    stages: [{ type: inspect }]',
  ].join('\n');
}

/** A wrk script sending each request with the next token of the file, keeping report.lua's done(). */
export function distinctTokensLua(dir, tokensFile, reportLua, path) {
  const file = `${dir}/distinct-tokens.lua`;
  fs.writeFileSync(file, [
    'local tokens = {}',
    `for line in io.lines("${tokensFile}") do tokens[#tokens + 1] = line end`,
    'local i = 0',
    'request = function()',
    '  i = i + 1',
    '  if i > #tokens then i = 1 end',
    `  return wrk.format("GET", "${path}", { ["Authorization"] = "Bearer " .. tokens[i] })`,
    'end',
    `dofile("${reportLua}")`,
    '',
  ].join('\n'));
  return file;
}

/** A wrk script POSTing a ~2 KB JSON order with a query string (the inspected-route scenario). */
export function inspectLua(dir, reportLua, path) {
  const items = Array.from({ length: 14 }, (_, i) => ({ sku: `SKU-${1000 + i}`, name: `Blue widget, size ${i}`, qty: i + 1, note: "O'Brien's order: select the union-blue one <3" }));
  const body = JSON.stringify({ customer: { name: 'Sean O\'Brien', email: 'sean@example.com' }, items });
  const file = `${dir}/inspect.lua`;
  fs.writeFileSync(file, [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(body)}`,
    'wrk.headers["Content-Type"] = "application/json"',
    `wrk.path = "${path}"`,
    `dofile("${reportLua}")`,
    '',
  ].join('\n'));
  return { file, bytes: Buffer.byteLength(body) };
}
