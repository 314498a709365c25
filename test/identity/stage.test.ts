import t from 'tap';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { SignJWT, createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, rawRequest, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { makeTestPki } from '../helpers/pki.js';

/** A real OIDC issuer on loopback: discovery document and JWKS, counting requests. */
async function startIssuer() {
  const prod = await generateKeyPair('ES256');
  const dev = await generateKeyPair('ES256');
  const prodJwk = { ...(await exportJWK(prod.publicKey)), kid: 'prod-1', alg: 'ES256', use: 'sig' };
  const devJwk = { ...(await exportJWK(dev.publicKey)), kid: 'dev-1', alg: 'ES256', use: 'sig' };
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url!);
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const body =
      req.url === '/.well-known/openid-configuration'
        ? { issuer: base, jwks_uri: `${base}/jwks` }
        : req.url === '/jwks'
          ? { keys: [prodJwk] }
          : req.url === '/dev/jwks'
            ? { keys: [devJwk] }
            : null;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const sign = (claims: Record<string, unknown>, env: 'prod' | 'dev' = 'prod') =>
    new SignJWT({ scope: 'orders:read', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: env === 'prod' ? 'prod-1' : 'dev-1' })
      .setIssuer(env === 'prod' ? base : `${base}/dev`)
      .setAudience('orders')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(env === 'prod' ? prod.privateKey : dev.privateKey);
  return { base, hits, sign, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const pki = makeTestPki(['api.test']);
const apiKey = 'zt_test_4f6c2b1e9a7d4c0b8e3f';

t.test('identity stage: JWT, API key, mTLS, authorization and propagation', async (t) => {
  const issuer = await startIssuer();
  const upstream = await startEchoUpstream();
  const [port, mtlsPort] = [await freePort(), await freePort()];
  const identity = (methods: unknown[], extra: Record<string, unknown> = {}) => [{ type: 'identity', environment: 'prod', methods, ...extra }];
  const jwt = { jwt: { issuers: ['corp'] } };
  const gatewayKey = await generateKeyPair('ES256', { extractable: true });
  const keyFile = join(mkdtempSync(join(tmpdir(), 'ztgate-sign-')), 'signing.pem');
  writeFileSync(keyFile, await exportPKCS8(gatewayKey.privateKey));
  const gw = await startGateway({
    listeners: [
      { name: 'main', host: '127.0.0.1', port },
      {
        name: 'partners',
        host: '127.0.0.1',
        port: mtlsPort,
        segment: 'partner',
        tls: { certificates: [{ cert: pki.server['api.test'].cert, key: pki.server['api.test'].key }], clientCa: pki.clientCa },
      },
    ],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    identity: {
      signing: { privateKey: { file: keyFile }, keyId: 'gw-1', issuer: 'ztgate-test' },
      issuers: [
        { name: 'corp', environment: 'prod', issuer: issuer.base, audiences: ['orders'], algorithms: ['ES256'], discovery: true },
        { name: 'devidp', environment: 'dev', issuer: `${issuer.base}/dev`, algorithms: ['ES256'], jwksUri: `${issuer.base}/dev/jwks` },
      ],
      consumers: [
        {
          name: 'acme',
          environment: 'prod',
          groups: ['partners'],
          apiKeys: [{ sha256: createHash('sha256').update(apiKey).digest('hex') }],
          certificates: [{ spiffe: 'spiffe://test/client' }],
        },
      ],
    },
    routes: [
      { name: 'orders', match: { path: '/orders/*' }, upstream: 'app', stages: identity([jwt], { scopes: { allOf: ['orders:read'] }, propagateJwt: true }) },
      { name: 'admin', match: { path: '/admin/*' }, upstream: 'app', stages: identity([jwt], { roles: { anyOf: ['admin'] } }) },
      { name: 'tenant', match: { path: '/tenant/*' }, upstream: 'app', stages: identity([jwt], { claims: [{ claim: 'tenant', equalsHeader: 'x-tenant' }] }) },
      { name: 'keys', match: { path: '/keys/*' }, upstream: 'app', stages: identity([{ apiKey: {} }], { consumers: ['acme'] }) },
      { name: 'partner', match: { path: '/partner/*' }, upstream: 'app', listeners: ['partners'], stages: identity([{ mtls: {} }]) },
      { name: 'open', match: { path: '/public/*' }, upstream: 'app', public: true },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
    await issuer.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: api.test\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 500, { untilResponse: true });
  const seen = () => upstream.seen.length;

  const token = await issuer.sign({});
  let before = seen();
  let res = await get('/orders/1');
  t.equal(res.status, 401, 'no credentials: 401');
  t.equal(res.headers['www-authenticate'], 'Bearer realm="ztgate"', 'no error code without credentials (RFC 6750 §3.1)');
  t.equal(seen(), before, 'upstream not reached');

  res = await get('/orders/1', { authorization: `Bearer ${token}`, 'x-consumer-id': 'root', 'x-authenticated-subject': 'root' });
  t.equal(res.status, 200, 'valid token');
  const forwarded = upstream.seen.at(-1)!.headers;
  t.equal(forwarded['x-authenticated-subject'], 'alice', 'verified subject propagated');
  t.equal(forwarded['x-authenticated-method'], 'jwt');
  t.equal(forwarded['x-consumer-id'], undefined, 'client-supplied identity header stripped');
  const jwksRes = await fetch(`http://127.0.0.1:${port}/.well-known/ztgate/jwks.json`);
  t.equal(jwksRes.status, 200, 'gateway publishes its JWKS');
  const signed = await jwtVerify(String(forwarded['x-ztgate-identity']), createLocalJWKSet((await jwksRes.json()) as { keys: [] }), {
    issuer: 'ztgate-test',
    audience: 'app',
  });
  t.equal(signed.payload.sub, 'alice', 'upstream can verify the gateway-signed identity');
  t.equal(signed.payload.scope, 'orders:read');
  t.ok(signed.payload.exp! - signed.payload.iat! <= 60, 'short-lived');

  before = seen();
  res = await get('/admin/x', { authorization: `Bearer ${token}` });
  t.equal(res.status, 403, 'missing role: 403');
  t.match(res.headers['www-authenticate'], /error="insufficient_scope"/);
  t.notMatch(res.body, /role/, 'the answer does not say which check failed');
  await gw.waitForLog((l) => l.code === 'ZTG_FORBIDDEN' && l.reason === 'missing role');

  const tenantToken = await issuer.sign({ tenant: 't-1' });
  t.equal((await get('/tenant/x', { authorization: `Bearer ${tenantToken}`, 'x-tenant': 't-1' })).status, 200, 'claim matches header');
  t.equal((await get('/tenant/x', { authorization: `Bearer ${tenantToken}`, 'x-tenant': 't-2' })).status, 403, 'claim differs from header');

  const devToken = await issuer.sign({}, 'dev');
  res = await get('/orders/1', { authorization: `Bearer ${devToken}` });
  t.equal(res.status, 401, 'a dev token is refused on a prod route');
  t.match(res.headers['www-authenticate'], /error="invalid_token"/);

  const [h, p] = token.split('.');
  const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`;
  t.equal((await get('/orders/1', { authorization: `Bearer ${none}` })).status, 401, 'alg none refused');
  t.equal((await get('/orders/1', { authorization: `Bearer ${h}.${p}.AAAA` })).status, 401, 'bad signature refused');
  res = await rawRequest(port, `GET /orders/1 HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\n\r\n`, 500, { untilResponse: true });
  t.equal(res.status, 401, 'duplicate Authorization refused');
  t.match(res.headers['www-authenticate'], /error="invalid_request"/);
  t.equal(seen(), before + 1, 'only the one authorized request reached the upstream');

  t.equal((await get('/keys/1', { 'x-api-key': apiKey })).status, 200, 'API key accepted');
  t.equal(upstream.seen.at(-1)!.headers['x-consumer-id'], 'acme', 'API key maps to its consumer');
  t.equal((await get('/keys/1', { 'x-api-key': `${apiKey}x` })).status, 401, 'wrong API key refused');

  t.equal((await get('/public/1')).status, 200, 'public route needs nothing');
  t.equal((await get('/partner/1')).status, 404, 'mTLS-only route does not exist on the plain listener');

  const tlsGet = (withCert: boolean) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: mtlsPort,
          path: '/partner/1',
          servername: 'api.test',
          ca: readFileSync(pki.caCert),
          ...(withCert ? { cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) } : {}),
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const withCert = await tlsGet(true);
  t.equal(withCert.status, 200, 'client certificate maps to a consumer');
  t.equal(upstream.seen.at(-1)!.headers['x-consumer-id'], 'acme');
  t.equal((await tlsGet(false)).status, 401, 'no client certificate on an mTLS route: 401');
});

t.test('deny by default: a route without identity must say public: true', async (t) => {
  const { validateConfig, ConfigError } = await import('../../src/config/load.js');
  t.throws(
    () =>
      validateConfig(
        {
          listeners: [{ name: 'l', port: 1 }],
          upstreams: [{ name: 'u', targets: [{ url: 'http://127.0.0.1:2' }] }],
          routes: [{ name: 'r', match: { path: '/*' }, upstream: 'u' }],
        },
        '/',
      ),
    { name: 'ConfigError', issues: ['routes[0]: no identity stage; add one, or set public: true to open the route to anyone'] },
  );
  t.ok(ConfigError);
});
