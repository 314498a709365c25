import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  /** name → { cert, key } paths */
  server: Record<string, { cert: string; key: string }>;
  clientCa: string;
  client: { cert: string; key: string };
  /** Signed by a CA the gateway does not trust. */
  rogueClient: { cert: string; key: string };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function issue(dir: string, name: string, subject: string, ca: string, ext: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', subject], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', cert, '-extfile', extFile], dir);
  return { cert, key };
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`], dir);
}

/** A throwaway PKI made with the openssl CLI: server CA, client CA, and a rogue CA. */
export function makeTestPki(serverNames: string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-pki-'));
  makeCa(dir, 'server-ca');
  makeCa(dir, 'client-ca');
  makeCa(dir, 'rogue-ca');
  const server: TestPki['server'] = {};
  for (const name of serverNames) {
    server[name] = issue(dir, `server-${name}`, `/CN=${name}`, 'server-ca', `subjectAltName=DNS:${name},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`);
  }
  const clientExt = 'subjectAltName=URI:spiffe://test/client\nextendedKeyUsage=clientAuth\n';
  return {
    dir,
    caCert: join(dir, 'server-ca.crt'),
    server,
    clientCa: join(dir, 'client-ca.crt'),
    client: issue(dir, 'client', '/CN=client/O=ztgate-test', 'client-ca', clientExt),
    rogueClient: issue(dir, 'rogue', '/CN=rogue', 'rogue-ca', clientExt),
  };
}
