import t from 'tap';
import { createHash } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { freePort, rawRequest, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

/**
 * forwardCredentials per identity method: the verified bearer token or API key
 * goes upstream by default (as before the option existed), and not at all
 * with `forwardCredentials: false`.
 */
const apiKey = 'zt_test_9c1e4a7b2d5f8e0a3c6b';
let upstream: EchoUpstream;
let gw: RunningGateway;
let token: string;

t.before(async () => {
  upstream = await startEchoUpstream();
  const pair = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idp.test').setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(pair.privateKey);
  const identity = (method: unknown) => [{ type: 'identity', environment: 'prod', methods: [method] }];
  const port = await freePort();
  gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    identity: {
      issuers: [{ name: 'corp', environment: 'prod', issuer: 'https://idp.test', algorithms: ['ES256'], jwks: [jwk] }],
      consumers: [{ name: 'acme', environment: 'prod', apiKeys: [{ sha256: createHash('sha256').update(apiKey).digest('hex') }] }],
    },
    routes: [
      { name: 'jwt-kept', match: { path: '/jwt/kept' }, upstream: 'app', stages: identity({ jwt: { issuers: ['corp'] } }) },
      { name: 'jwt-hidden', match: { path: '/jwt/hidden' }, upstream: 'app', stages: identity({ jwt: { issuers: ['corp'], forwardCredentials: false } }) },
      { name: 'key-kept', match: { path: '/key/kept' }, upstream: 'app', stages: identity({ apiKey: { query: 'apikey' } }) },
      { name: 'key-hidden', match: { path: '/key/hidden' }, upstream: 'app', stages: identity({ apiKey: { query: 'apikey', forwardCredentials: false } }) },
    ],
  });
});
t.teardown(async () => {
  await gw?.stop();
  await upstream?.close();
});

async function forwarded(target: string, headers: Record<string, string>) {
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const res = await rawRequest(gw.port, `GET ${target} HTTP/1.1\r\nHost: api.test\r\n${head}\r\n`, 2000, { untilResponse: true });
  t.equal(res.status, 200, `${target}: authenticated`);
  return upstream.seen.at(-1)!;
}

t.test('bearer token: kept by default, removed with forwardCredentials: false', async (t) => {
  const kept = await forwarded('/jwt/kept', { authorization: `Bearer ${token}` });
  t.equal(kept.headers.authorization, `Bearer ${token}`);
  const hidden = await forwarded('/jwt/hidden', { authorization: `Bearer ${token}` });
  t.equal(hidden.headers.authorization, undefined, 'no Authorization upstream');
  t.equal(hidden.headers['x-authenticated-subject'], 'alice', 'the verified identity still goes up');
});

t.test('API key: header and query parameter removed with forwardCredentials: false', async (t) => {
  t.equal((await forwarded('/key/kept', { 'x-api-key': apiKey })).headers['x-api-key'], apiKey);
  const hidden = await forwarded('/key/hidden', { 'x-api-key': apiKey });
  t.equal(hidden.headers['x-api-key'], undefined, 'no x-api-key upstream');
  t.equal(hidden.headers['x-consumer-id'], 'acme');
  t.equal((await forwarded('/key/kept?a=1&apikey=' + apiKey, {})).url, `/key/kept?a=1&apikey=${apiKey}`);
  t.equal((await forwarded('/key/hidden?a=1&apikey=' + apiKey + '&b=%20x', {})).url, '/key/hidden?a=1&b=%20x', 'the key left the query, the rest as sent');
});
