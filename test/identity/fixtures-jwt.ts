/**
 * A real JWKS / OpenID Connect issuer on loopback, keys made with jose, and
 * helpers to build tokens (signed, or hand-made for attacks).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import pino from 'pino';
import type { IssuerConfig } from '../../src/identity/types.js';

export const silentLog = pino({ level: 'silent' });

export const now = () => Math.floor(Date.now() / 1000);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const b64 = (value: string | Buffer | object) =>
  Buffer.from(typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value)).toString('base64url');

export interface TestKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(alg: 'ES256' | 'RS256' | 'EdDSA' | 'PS256' | 'ES384', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

export interface TokenOptions {
  header?: Record<string, unknown>;
  /** Claims merged over the defaults; `undefined` values remove a default. */
  claims?: Record<string, unknown>;
}

/** A token signed by `key`, with valid default claims for `issuer`. */
export async function signToken(key: TestKey | { alg: string; kid?: string; secret: Uint8Array }, issuer: string, opts: TokenOptions = {}): Promise<string> {
  const t = now();
  const claims: Record<string, unknown> = {
    iss: issuer,
    aud: 'api://test',
    sub: 'user-1',
    iat: t,
    exp: t + 300,
    scope: 'read write',
    roles: ['admin'],
    jti: Math.random().toString(36).slice(2),
    ...opts.claims,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  const header: Record<string, unknown> = { alg: key.alg, ...(key.kid !== undefined ? { kid: key.kid } : {}), ...opts.header };
  const signer = new SignJWT(claims as JWTPayload).setProtectedHeader(header as { alg: string });
  const crit = Array.isArray(header.crit) ? Object.fromEntries((header.crit as string[]).map((c) => [c, true])) : undefined;
  return signer.sign('secret' in key ? key.secret : key.privateKey, crit ? { crit } : undefined);
}

export function issuerConfig(name: string, issuer: string, extra: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    name,
    environment: 'prod',
    issuer,
    audiences: ['api://test'],
    algorithms: ['ES256', 'RS256', 'EdDSA', 'PS256'],
    clockSkewSec: 5,
    maxTokenAgeSec: 0,
    requiredClaims: [],
    refreshIntervalSec: 300,
    maxFetchesPerMinute: 10,
    scopeClaim: 'scope',
    roleClaims: ['roles'],
    ...extra,
  };
}

export interface TestIssuer {
  /** `http://127.0.0.1:port` */
  url: string;
  jwksUri: string;
  /** Keys served at /jwks (mutable). */
  keys: JWK[];
  /** Every request path seen, in order. */
  readonly requests: string[];
  count(path: string): number;
  /** Overrides what /jwks answers. */
  respond?: (res: import('node:http').ServerResponse) => void;
  /** Delay before answering /jwks (ms). */
  delayMs: number;
  /** `issuer` value written into the discovery document (default: url). */
  discoveryIssuer?: string;
  /** Stops listening and drops every connection: the issuer is down. */
  down(): Promise<void>;
  close(): Promise<void>;
}

export async function startIssuer(keys: JWK[] = []): Promise<TestIssuer> {
  const requests: string[] = [];
  let server: Server;
  const issuer: TestIssuer = {
    url: '',
    jwksUri: '',
    keys,
    requests,
    delayMs: 0,
    count: (path) => requests.filter((p) => p === path).length,
    down: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
    close: async () => {
      if (!server.listening) return;
      await issuer.down();
    },
  };
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    if (path === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: issuer.discoveryIssuer ?? issuer.url, jwks_uri: issuer.jwksUri }));
      return;
    }
    if (path === '/jwks') {
      const answer = () => {
        if (issuer.respond) return issuer.respond(res);
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        res.end(JSON.stringify({ keys: issuer.keys }));
      };
      if (issuer.delayMs > 0) setTimeout(answer, issuer.delayMs);
      else answer();
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  issuer.url = `http://127.0.0.1:${port}`;
  issuer.jwksUri = `${issuer.url}/jwks`;
  return issuer;
}

/** The verifier built by `npm run build` (the worker pool only runs from dist). */
export async function distVerifier(): Promise<typeof import('../../src/identity/jwt/verifier.js')> {
  const url = new URL('../../dist/identity/jwt/verifier.js', import.meta.url);
  if (!existsSync(fileURLToPath(new URL('./verify-worker.js', url)))) {
    throw new Error('dist/identity/jwt/verify-worker.js is missing: run `npm run build` first');
  }
  return (await import(url.href)) as typeof import('../../src/identity/jwt/verifier.js');
}
