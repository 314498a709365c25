/**
 * TLS and mTLS to services through a real gateway: the service's certificate
 * is verified against the upstream's CA and name (SNI), a client certificate
 * is presented when configured, an untrusted or wrong-name certificate gets no
 * request (502 ZTG_UPSTREAM_TLS), and a certificate rotated on the service is
 * accepted on new connections when the CA trusts it.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { freePort, startGateway } from '../helpers/gateway.js';
import { makeTestPki } from '../helpers/pki.js';
import { assertProblem, send, until } from './helpers.js';

const pki = makeTestPki(['svc.test']);
const rogue = makeTestPki(['svc.test']); // same name, another CA

/** A second certificate for svc.test from the same CA, as a rotation would issue. */
function reissue(): { cert: string; key: string } {
  const dir = pki.dir;
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(join(dir, 'rot.ext'), 'subjectAltName=DNS:svc.test\nextendedKeyUsage=serverAuth\n');
  run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rot.key', '-out', 'rot.csr', '-subj', '/CN=svc.test']);
  run(['x509', '-req', '-in', 'rot.csr', '-CA', 'server-ca.crt', '-CAkey', 'server-ca.key', '-CAcreateserial', '-days', '2', '-out', 'rot.crt', '-extfile', 'rot.ext']);
  return { cert: join(dir, 'rot.crt'), key: join(dir, 'rot.key') };
}

interface Service {
  port: number;
  server: Server;
  requests: number;
  handshakes: number;
  /** Health check requests: path and the client certificate's CN. */
  checks: { path: string; clientCn: string | null }[];
}

/** An HTTPS service that asks for (but does not require) a client certificate and says what it saw. */
async function service(cert: { cert: string; key: string }, extra: Record<string, unknown> = {}): Promise<Service> {
  const s: Service = { port: 0, server: null as unknown as Server, requests: 0, handshakes: 0, checks: [] };
  s.server = createServer(
    { cert: readFileSync(cert.cert), key: readFileSync(cert.key), ca: readFileSync(pki.clientCa), requestCert: true, rejectUnauthorized: false, ...extra },
    (req, res) => {
      const sock = req.socket as TLSSocket;
      const peer = sock.getPeerCertificate();
      if (req.headers['user-agent'] === 'ztgate-health') {
        s.checks.push({ path: req.url!, clientCn: peer?.subject?.CN ?? null });
        res.writeHead(204).end();
        return;
      }
      s.requests++;
      const out = JSON.stringify({ clientCn: peer?.subject?.CN ?? null, clientAuthorized: sock.authorized, sni: (sock as unknown as { servername?: string }).servername ?? null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    },
  );
  s.server.on('secureConnection', () => s.handshakes++);
  s.server.listen(0, '127.0.0.1');
  await once(s.server, 'listening');
  s.port = (s.server.address() as { port: number }).port;
  return s;
}

const main = await service(pki.server['svc.test']);
const rotating = await service(pki.server['svc.test']);
const old12 = await service(pki.server['svc.test'], { maxVersion: 'TLSv1.2' });
const target = (s: Service) => [{ url: `https://127.0.0.1:${s.port}` }];
const ca = { file: pki.caCert };
const upstreams = [
  { name: 'sni', targets: target(main), tls: { ca, servername: 'svc.test' } },
  { name: 'ip', targets: target(main), tls: { ca } },
  {
    name: 'mtls',
    targets: target(main),
    tls: { ca, servername: 'svc.test', cert: { file: pki.client.cert }, key: { file: pki.client.key } },
    healthCheck: { path: '/healthz', intervalMs: 200, expectedStatuses: [204] },
  },
  { name: 'wrongname', targets: target(main), tls: { ca, servername: 'other.test' } },
  { name: 'untrusted', targets: target(main), tls: { servername: 'svc.test' } },
  { name: 'tls13', targets: target(old12), tls: { ca, servername: 'svc.test', minVersion: 'TLSv1.3' } },
  { name: 'rotating', targets: target(rotating), tls: { ca, servername: 'svc.test' } },
].map((u) => ({ ...u, timeouts: { connectMs: 2000, firstByteMs: 2000, idleMs: 2000 } }));
const port = await freePort();
const gw = await startGateway({
  listeners: [{ name: 'main', host: '127.0.0.1', port }],
  upstreams,
  routes: upstreams.map((u) => ({ name: u.name, match: { path: `/${u.name}/*` }, upstream: u.name, public: true })),
});
t.teardown(async () => {
  await gw.stop();
  for (const s of [main, rotating, old12]) {
    s.server.closeAllConnections();
    s.server.close();
  }
});

t.test('https target verified against the upstream CA with SNI; no client certificate unless configured', async (t) => {
  const res = await send(port, '/sni/a');
  t.equal(res.status, 200);
  const seen = JSON.parse(res.body);
  t.equal(seen.sni, 'svc.test', 'SNI is the configured servername');
  t.equal(seen.clientCn, null, 'no client certificate presented');
  const ip = await send(port, '/ip/a');
  t.equal(ip.status, 200, 'an IP target is checked against the certificate IP names (no SNI)');
  t.notOk(JSON.parse(ip.body).sni, 'no SNI for an IP literal');
});

t.test('mTLS: the configured client certificate reaches the service and verifies', async (t) => {
  const res = await send(port, '/mtls/a');
  t.equal(res.status, 200);
  const seen = JSON.parse(res.body);
  t.equal(seen.clientCn, 'client', 'client certificate presented');
  t.equal(seen.clientAuthorized, true, 'and it chains to the client CA the service trusts');
  await until(() => main.checks.length > 0, 'a health check reaches the service');
  t.same(main.checks[0], { path: '/healthz', clientCn: 'client' }, 'health checks go over the same mTLS');
});

t.test('wrong name, untrusted CA, TLS version below the minimum: 502 ZTG_UPSTREAM_TLS, no request sent', async (t) => {
  const before = main.requests;
  for (const name of ['wrongname', 'untrusted']) {
    const res = await send(port, `/${name}/a`);
    const line = await assertProblem(t, gw, res, 502, 'ZTG_UPSTREAM_TLS');
    t.match(String(line.reason), name === 'wrongname' ? /ERR_TLS_CERT_ALTNAME_INVALID/ : /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i, `${name}: the log line says why`);
  }
  t.equal(main.requests, before, 'the service received no request');
  const before12 = old12.requests;
  await assertProblem(t, gw, await send(port, '/tls13/a'), 502, 'ZTG_UPSTREAM_TLS');
  t.equal(old12.requests, before12, 'a TLS 1.2-only service gets nothing from a TLSv1.3 minimum');
  t.equal((await send(port, '/sni/again')).status, 200, 'the gateway keeps serving');
});

t.test('a certificate rotated on the service is accepted on new connections; one from another CA is not', async (t) => {
  t.equal((await send(port, '/rotating/1')).status, 200, 'first certificate');
  const handshakes = rotating.handshakes;
  const next = reissue();
  rotating.server.setSecureContext({ cert: readFileSync(next.cert), key: readFileSync(next.key), ca: readFileSync(pki.clientCa) });
  rotating.server.closeAllConnections(); // the gateway's pooled socket goes: the next request handshakes again
  t.equal((await send(port, '/rotating/2')).status, 200, 'rotated certificate from the same CA accepted');
  t.ok(rotating.handshakes > handshakes, 'on a new connection');
  const bad = rogue.server['svc.test'];
  rotating.server.setSecureContext({ cert: readFileSync(bad.cert), key: readFileSync(bad.key), ca: readFileSync(pki.clientCa) });
  rotating.server.closeAllConnections();
  const before = rotating.requests;
  await assertProblem(t, gw, await send(port, '/rotating/3'), 502, 'ZTG_UPSTREAM_TLS');
  t.equal(rotating.requests, before, 'no request to the service with the foreign certificate');
});
