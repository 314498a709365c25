import t from 'tap';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientCertMapper,
  certificateBoundThumbprint,
  normalizeSubject,
  splitSubjectAltNames,
  subjectDn,
} from '../../src/identity/client-cert.js';
import type { ConsumerConfig } from '../../src/identity/types.js';

// A small PKI made with the openssl CLI: an EC P-256 CA and a few client certificates.
const dir = mkdtempSync(join(tmpdir(), 'ztgate-cc-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca']);

function issue(name: string, subject: string, ext: string): string {
  writeFileSync(join(dir, `${name}.ext`), `extendedKeyUsage=clientAuth\n${ext}`);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
  return readFileSync(join(dir, `${name}.crt`), 'utf8');
}

const client = issue(
  'client',
  '/CN=client/O=ztgate-test',
  'subjectAltName=URI:spiffe://test/client,DNS:Client.Example.Test,email:ops@Example.Test,IP:10.1.2.3,IP:2001:db8::7\n',
);
const other = issue('other', '/CN=other/O=Acme, Inc.', 'subjectAltName=DNS:other.example.test\n');
const twoUris = issue('twouri', '/CN=twouri', 'subjectAltName=URI:spiffe://test/client,URI:https://x.example/\n');
const noSan = issue('nosan', '/CN=nosan', '');
const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
const clientFp = new X509Certificate(client).fingerprint256; // "AB:CD:..."

function consumer(name: string, certificates: ConsumerConfig['certificates'], extra: Partial<ConsumerConfig> = {}): ConsumerConfig {
  return { name, environment: 'prod', groups: [], apiKeys: [], certificates, allowCidrs: [], denyCidrs: [], ...extra };
}

function mapsTo(tt: Tap, mapper: ClientCertMapper, pem: string, name: string | null, msg?: string): void {
  const r = mapper.map(pem);
  if (name === null) tt.match(r, { ok: false, error: 'invalid_token' }, msg ?? 'no match');
  else tt.match(r, { ok: true, principal: { consumer: name } }, msg ?? `maps to ${name}`);
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('subject DN form', async (tt) => {
  tt.equal(new X509Certificate(client).subject, 'CN=client\nO=ztgate-test', 'as Node prints it');
  tt.equal(subjectDn(new X509Certificate(client)), 'CN=client,O=ztgate-test');
  tt.equal(subjectDn(new X509Certificate(other)), 'CN=other,O=Acme\\, Inc.', 'a comma in a value is escaped');
  tt.equal(normalizeSubject('CN=client, O=ztgate-test'), 'CN=client,O=ztgate-test');
  tt.equal(normalizeSubject('CN=client\nO=ztgate-test'), 'CN=client,O=ztgate-test');
  tt.equal(normalizeSubject('CN=other,O=Acme\\, Inc.'), 'CN=other,O=Acme\\, Inc.');
});

t.test('subject matcher', async (tt) => {
  const m = new ClientCertMapper([
    consumer('client', [{ subject: 'CN=client,O=ztgate-test' }], { groups: ['svc', 'readers'], environment: 'staging' }),
    consumer('acme', [{ subject: 'CN=other, O=Acme\\, Inc.' }]),
  ]);
  const r = m.map(client);
  tt.ok(r.ok);
  if (r.ok) {
    const p = r.principal;
    tt.equal(p.method, 'mtls');
    tt.equal(p.subject, 'client');
    tt.equal(p.consumer, 'client');
    tt.equal(p.environment, 'staging');
    tt.same([...p.roles].sort(), ['readers', 'svc']);
    tt.equal(p.scopes.size, 0);
    tt.same(p.claims, { subject: 'CN=client,O=ztgate-test', fingerprint256: clientFp, spiffe: 'spiffe://test/client' });
    tt.equal(p.expiresAt, Math.floor(Date.parse(new X509Certificate(client).validTo) / 1000));
    tt.ok(p.expiresAt! > Date.now() / 1000);
  }
  mapsTo(tt, m, other, 'acme');
  mapsTo(tt, m, noSan, null);
  // Exact: order, case and extra RDNs matter.
  mapsTo(tt, new ClientCertMapper([consumer('c', [{ subject: 'O=ztgate-test,CN=client' }])]), client, null, 'other order');
  mapsTo(tt, new ClientCertMapper([consumer('c', [{ subject: 'CN=Client,O=ztgate-test' }])]), client, null, 'other case');
  mapsTo(tt, new ClientCertMapper([consumer('c', [{ subject: 'CN=client' }])]), client, null, 'prefix only');
  mapsTo(tt, new ClientCertMapper([consumer('c', [{ subject: 'CN=client\nO=ztgate-test' }])]), client, 'c', 'Node form in config');
});

t.test('san matcher: DNS, email, IP', async (tt) => {
  const cases: [string, string | null][] = [
    ['client.example.test', 'c'],
    ['CLIENT.example.test', 'c'],
    ['DNS:client.example.test', 'c'],
    ['ops@example.test', 'c'],
    ['email:ops@EXAMPLE.test', 'c'],
    ['Ops@example.test', null],
    ['10.1.2.3', 'c'],
    ['IP:10.1.2.3', 'c'],
    ['2001:db8::7', 'c'],
    ['2001:0db8:0:0:0:0:0:7', 'c'],
    ['10.1.2.4', null],
    ['example.test', null],
    ['spiffe://test/client', null],
    ['client', null],
  ];
  for (const [san, expected] of cases) {
    mapsTo(tt, new ClientCertMapper([consumer('c', [{ san }])]), client, expected, `san ${san} → ${expected}`);
  }
  mapsTo(tt, new ClientCertMapper([consumer('c', [{ san: 'other.example.test' }])]), other, 'c');
  mapsTo(tt, new ClientCertMapper([consumer('c', [{ san: 'nosan' }])]), noSan, null, 'CN is not a SAN');
});

t.test('spiffe matcher', async (tt) => {
  const m = new ClientCertMapper([consumer('workload', [{ spiffe: 'spiffe://test/client' }])]);
  const r = m.map(client);
  tt.match(r, { ok: true, principal: { consumer: 'workload', claims: { spiffe: 'spiffe://test/client' } } });
  mapsTo(tt, new ClientCertMapper([consumer('w', [{ spiffe: 'spiffe://test/client/' }])]), client, null, 'exact');
  mapsTo(tt, new ClientCertMapper([consumer('w', [{ spiffe: 'spiffe://TEST/client' }])]), client, null, 'exact case');
  mapsTo(tt, new ClientCertMapper([consumer('w', [{ spiffe: 'spiffe://test' }])]), client, null, 'no prefix match');
  mapsTo(tt, m, twoUris, null, 'several URI SANs: not an SVID');
  const noSpiffe = new ClientCertMapper([consumer('n', [{ subject: 'CN=nosan' }])]).map(noSan);
  tt.ok(noSpiffe.ok && !('spiffe' in noSpiffe.principal.claims), 'no spiffe claim without a SPIFFE ID');
});

t.test('fingerprint256 matcher', async (tt) => {
  const hex = clientFp.replace(/:/g, '');
  for (const fp of [clientFp, clientFp.toLowerCase(), hex, hex.toLowerCase()]) {
    mapsTo(tt, new ClientCertMapper([consumer('pinned', [{ fingerprint256: fp }])]), client, 'pinned', fp);
  }
  const m = new ClientCertMapper([consumer('pinned', [{ fingerprint256: hex }])]);
  mapsTo(tt, m, other, null, 'another certificate');
  mapsTo(tt, m, caPem, null, 'the CA');
  tt.equal(hex.toLowerCase(), createHash('sha256').update(new X509Certificate(client).raw).digest('hex'));
});

t.test('several consumers and matchers', async (tt) => {
  const m = new ClientCertMapper([
    consumer('a', [{ fingerprint256: new X509Certificate(other).fingerprint256 }, { spiffe: 'spiffe://test/a' }]),
    consumer('b', [{ san: 'client.example.test' }, { spiffe: 'spiffe://test/client' }]),
    consumer('c', [{ subject: 'CN=nosan' }]),
  ]);
  mapsTo(tt, m, client, 'b', 'two matchers of the same consumer');
  mapsTo(tt, m, other, 'a');
  mapsTo(tt, m, noSan, 'c');
  mapsTo(tt, m, twoUris, null);

  const ambiguous = new ClientCertMapper([consumer('x', [{ spiffe: 'spiffe://test/client' }]), consumer('y', [{ subject: 'CN=client,O=ztgate-test' }])]);
  tt.match(ambiguous.map(client), { ok: false, error: 'invalid_token', reason: /several consumers/ });
});

t.test('invalid config', async (tt) => {
  tt.throws(() => new ClientCertMapper([consumer('a', [{ spiffe: 'spiffe://x' }]), consumer('b', [{ spiffe: 'spiffe://x' }])]), /consumers\[1\]\.certificates\[0\]\.spiffe.*consumer "a"/);
  tt.throws(
    () => new ClientCertMapper([consumer('a', [{ fingerprint256: clientFp }]), consumer('b', [{ fingerprint256: clientFp.toLowerCase() }])]),
    /also maps to consumer "a"/,
  );
  tt.throws(() => new ClientCertMapper([consumer('a', [{ fingerprint256: 'abcd' }])]), /fingerprint256/);
  tt.throws(() => new ClientCertMapper([consumer('a', [{ spiffe: 'https://x' }])]), /spiffe/);
  // The same value twice on one consumer is harmless.
  tt.doesNotThrow(() => new ClientCertMapper([consumer('a', [{ san: 'x.test' }, { san: 'X.test' }])]));
});

t.test('garbage PEM → invalid_request', async (tt) => {
  const m = new ClientCertMapper([consumer('c', [{ subject: 'CN=client,O=ztgate-test' }])]);
  for (const pem of ['', 'garbage', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', client.slice(0, 200), 'x'.repeat(100_000)]) {
    tt.match(m.map(pem), { ok: false, error: 'invalid_request' }, JSON.stringify(pem.slice(0, 20)));
  }
  tt.match(m.map(readFileSync(join(dir, 'client.key'), 'utf8')), { ok: false, error: 'invalid_request' }, 'a private key');
});

t.test('certificateBoundThumbprint (RFC 8705 x5t#S256)', async (tt) => {
  const der = new X509Certificate(client).raw;
  const expected = createHash('sha256').update(der).digest('base64url');
  tt.equal(certificateBoundThumbprint(client), expected);
  tt.match(certificateBoundThumbprint(client), /^[A-Za-z0-9_-]{43}$/, 'base64url, no padding');
  // Same value as `openssl x509 -outform DER | sha256`.
  const opensslDer = execFileSync('openssl', ['x509', '-in', 'client.crt', '-outform', 'DER'], { cwd: dir });
  tt.equal(createHash('sha256').update(opensslDer).digest('base64url'), certificateBoundThumbprint(client));
  tt.not(certificateBoundThumbprint(other), certificateBoundThumbprint(client));
  tt.throws(() => certificateBoundThumbprint('garbage'));
});

t.test('splitSubjectAltNames handles quoted entries', async (tt) => {
  tt.same(splitSubjectAltNames('DNS:a, URI:spiffe://x/y, IP Address:1.2.3.4'), ['DNS:a', 'URI:spiffe://x/y', 'IP Address:1.2.3.4']);
  tt.same(splitSubjectAltNames('DNS:"evil\\u002c DNS:good", DNS:b'), ['DNS:evil, DNS:good', 'DNS:b']);
  tt.same(splitSubjectAltNames(''), []);
  tt.throws(() => splitSubjectAltNames('DNS:"unterminated'));
});
