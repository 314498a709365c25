import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import type { DemoCredentials } from './credentials.js';

/** Personal data of invented people: what the protect stage masks for callers without a grant. */
const RECORDS = {
  customers: [
    { name: 'Ada Example', email: 'ada@example.com', card: '4111 1111 1111 1111', iban: 'DE89 3704 0044 0532 0130 00', city: 'Berlin' },
    { name: 'Bo Example', email: 'bo.example@example.org', card: '5555 5555 5555 4444', iban: 'GB82 WEST 1234 5698 7654 32', city: 'Leeds' },
  ],
};

/** How long a token from /token lives: long enough to paste, short as tokens should be. */
const TOKEN_TTL_SEC = 15 * 60;

/**
 * The bundled demo service behind the embedded config. It echoes what it
 * received, so a first `curl` shows what the gateway forwarded (path,
 * X-Forwarded-*, X-Request-Id, the verified identity headers). Two paths do
 * more: `/token` mints a JWT of the demo issuer, and any path ending in
 * `/records` answers personal data, for the protect stage to mask.
 */
export function startDemoUpstream(host: string, port: number, credentials: DemoCredentials): Promise<Server> {
  const server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => void answer(req, res, size, credentials));
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function answer(req: IncomingMessage, res: ServerResponse, bodyBytes: number, credentials: DemoCredentials): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (path === '/token') return send(res, 'text/plain', `${await mintToken(credentials)}\n`);
  if (path.endsWith('/records')) return send(res, 'application/json', JSON.stringify(RECORDS, null, 2));
  const echo = { service: 'ztgate-demo-upstream', method: req.method, url: req.url, headers: req.headers, bodyBytes };
  send(res, 'application/json', JSON.stringify(echo, null, 2));
}

function mintToken(c: DemoCredentials): Promise<string> {
  return new SignJWT({ scope: 'demo.read' })
    .setProtectedHeader({ alg: 'ES256', kid: c.keyId, typ: 'JWT' })
    .setIssuer(c.issuer)
    .setAudience(c.audience)
    .setSubject('demo-user')
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_TTL_SEC}s`)
    .sign(c.privateKey);
}

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
