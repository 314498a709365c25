#!/usr/bin/env node
// The Node peer of the comparison: a fastify gateway built the way its users
// build one, one process, from the plugins' documented options:
//   /*        @fastify/http-proxy to the upstream (bare proxy)
//   /jwt/*    @fastify/jwt (ES256 public key, issuer, audience) then the proxy
//   /jwtrl/*  @fastify/jwt + @fastify/rate-limit (per IP, never reached) then the proxy
// The same routes, upstream and tokens as ztgate's bare, jwt and
// jwt-ratelimit scenarios (scripts/lib/scenarios.mjs).
//
//   node native-bench/fastify-gateway.mjs PORT UPSTREAM_PORT ES256_PUBLIC_KEY.pem
//
// FASTIFY_JWT_CACHE=0 turns off @fastify/jwt's verified-token cache (on by
// default: ztgate caches verified tokens too, so the jwt scenario compares
// like with like). Prints `ready` once listening; exits on SIGINT/SIGTERM.
import fs from 'node:fs';
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';
import jwt from '@fastify/jwt';
import rateLimit from '@fastify/rate-limit';

const [port, upstreamPort] = process.argv.slice(2, 4).map(Number);
const pemFile = process.argv[4];
if (!Number.isInteger(port) || !Number.isInteger(upstreamPort) || !pemFile) {
  process.stderr.write('usage: node native-bench/fastify-gateway.mjs PORT UPSTREAM_PORT ES256_PUBLIC_KEY.pem\n');
  process.exit(2);
}
const upstream = `http://127.0.0.1:${upstreamPort}`;

const app = Fastify({ logger: false });
await app.register(jwt, {
  secret: { public: fs.readFileSync(pemFile, 'utf8') },
  verify: {
    algorithms: ['ES256'],
    allowedIss: 'https://bench.idp',
    allowedAud: 'bench',
    ...(process.env.FASTIFY_JWT_CACHE === '0' ? {} : { cache: true }),
  },
});

async function authenticate(request, reply) {
  try {
    await request.jwtVerify();
  } catch {
    return reply.code(401).send({ error: 'unauthenticated' });
  }
  // The same authorization as ztgate's route: scope `read` required.
  if (!String(request.user.scope || '').split(' ').includes('read')) return reply.code(403).send({ error: 'forbidden' });
}

// Bare proxy.
await app.register(proxy, { upstream, prefix: '/' });

// JWT, then proxy.
await app.register(proxy, { upstream, prefix: '/jwt', rewritePrefix: '/jwt', preHandler: authenticate });

// Rate limit and JWT, then proxy (an encapsulated scope: the limit applies only here).
await app.register(async (scope) => {
  await scope.register(rateLimit, { max: 1_000_000_000, timeWindow: 1000 });
  await scope.register(proxy, { upstream, prefix: '/jwtrl', rewritePrefix: '/jwtrl', preHandler: authenticate });
});

await app.listen({ host: '127.0.0.1', port });
process.stdout.write('ready\n');

const stop = () => app.close().finally(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
