#!/usr/bin/env node
/**
 * JWT verification throughput: node:crypto alone (reference), JwtVerifier
 * inline (workers: 0), pooled one token per task, pooled batched (never
 * inline: maxQueued above the tokens in flight), and the default (batched,
 * inline beyond maxQueued); ES256 and RS256; distinct tokens (verified-token
 * cache off). Per case: verifications/s, the main thread's event-loop
 * utilisation and the CPU time of the whole process (every thread) per
 * verification, the figure that holds on a busy machine. Needs `npm run build`.
 *
 *   node scripts/bench-jwt.mjs [--seconds 3] [--workers N] [--inflight 256] [--batch 32] [--dist DIR]
 *
 * --dist: another build's dist/ (an A/B against an older verifier).
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pino from 'pino';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    workers: { type: 'string', default: String(availableParallelism()) },
    inflight: { type: 'string', default: '256' },
    batch: { type: 'string', default: '32' },
    algs: { type: 'string', default: 'ES256,RS256' },
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
  },
});
const { JwtVerifier } = await import(pathToFileURL(path.resolve(args.dist, 'identity/jwt/verifier.js')).href);
const SECONDS = Number(args.seconds);
const WORKERS = Number(args.workers);
const INFLIGHT = Number(args.inflight);
const BATCH = Number(args.batch);
const ISS = 'https://bench.example';
const log = pino({ level: 'warn' });

async function tokensFor(alg, count) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: `${alg}-1`, alg, use: 'sig' };
  const tokens = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await new SignJWT({ sub: `user-${i}`, scope: 'read write', aud: 'api://bench' })
        .setProtectedHeader({ alg, kid: jwk.kid })
        .setIssuer(ISS)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey),
    );
  }
  return { jwk, tokens };
}

const issuer = (jwk) => ({
  name: 'bench',
  environment: 'bench',
  issuer: ISS,
  audiences: ['api://bench'],
  algorithms: [jwk.alg],
  jwks: [jwk],
  clockSkewSec: 30,
  maxTokenAgeSec: 0,
  requiredClaims: [],
  refreshIntervalSec: 300,
  maxFetchesPerMinute: 10,
  scopeClaim: 'scope',
  roleClaims: [],
});

/**
 * Keeps `inflight` verifications going for `seconds`; returns verifications/s
 * and the main thread's event-loop utilisation (what a gateway would have
 * left for serving requests is 1 - elu).
 */
async function drive(verifyOne, tokens, seconds, inflight) {
  let i = 0;
  let done = 0;
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  const lane = async () => {
    while (performance.now() < end) {
      const r = await verifyOne(tokens[i++ % tokens.length]);
      if (r.ok) done++;
      else failed++;
    }
  };
  const start = performance.now();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: inflight }, lane));
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const elapsed = (performance.now() - start) / 1000;
  if (failed) throw new Error(`${failed} verifications failed`);
  return { rate: done / elapsed, elu, cpuUs: (cpu.user + cpu.system) / done };
}

async function verifierRate(jwk, tokens, options) {
  const v = new JwtVerifier([issuer(jwk)], { log, cacheEntries: 0, ...options });
  await v.start();
  const fn = (tok) => v.verify(tok, ['bench']);
  await drive(fn, tokens, 0.5, INFLIGHT); // warm-up: key imports, JIT
  const result = await drive(fn, tokens, SECONDS, INFLIGHT);
  await v.close();
  return result;
}

/** The hot path: a repeated token answered from the verified-token cache. */
async function cachedRate(jwk, token) {
  const v = new JwtVerifier([issuer(jwk)], { log, workers: 0 });
  await v.start();
  if (!(await v.verify(token, ['bench'])).ok) throw new Error('token refused');
  let n = 0;
  const start = performance.now();
  const end = start + 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++, n++) if (v.verify(token, ['bench']).ok !== true) throw new Error('cache miss');
  }
  const rate = n / ((performance.now() - start) / 1000);
  await v.close();
  return rate;
}

function nodeCryptoRate(jwk, tokens) {
  // Signature only, synchronous, one thread: the ceiling one core can reach.
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const parts = tokens.map((t) => {
    const dot = t.lastIndexOf('.');
    return [Buffer.from(t.slice(0, dot)), Buffer.from(t.slice(dot + 1), 'base64url')];
  });
  const opts = jwk.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  let n = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++, n++) {
      const [data, sig] = parts[n % parts.length];
      if (!cryptoVerify('sha256', data, opts, sig)) throw new Error('bad signature');
    }
  }
  return n / ((performance.now() - start) / 1000);
}

const fmt = (n) =>
  typeof n === 'number' ? `${Math.round(n).toLocaleString('en-US')}/s` : `${fmt(n.rate)} (main ${Math.round(n.elu * 100)}%, ${n.cpuUs.toFixed(1)} µs CPU)`;
console.log(`node ${process.version}, ${availableParallelism()} CPUs, ${WORKERS} workers, ${INFLIGHT} in flight, ${SECONDS}s per case, batch ${BATCH}`);
const rows = [];
for (const alg of args.algs.split(',')) {
  const { jwk, tokens } = await tokensFor(alg, alg.startsWith('RS') ? 1000 : 4000);
  const row = { alg };
  row['node:crypto 1 thread'] = fmt(nodeCryptoRate(jwk, tokens));
  row['inline (main thread)'] = fmt(await verifierRate(jwk, tokens, { workers: 0 }));
  row['pool, 1 token per task'] = fmt(await verifierRate(jwk, tokens, { workers: WORKERS, batchSize: 1, minBatch: 1, maxQueued: INFLIGHT + 1 }));
  row[`pool, batched (<=${BATCH})`] = fmt(await verifierRate(jwk, tokens, { workers: WORKERS, batchSize: BATCH, minBatch: 1, maxQueued: INFLIGHT + 1 }));
  row['default (batched, inline beyond maxQueued)'] = fmt(await verifierRate(jwk, tokens, { workers: WORKERS, batchSize: BATCH }));
  row['cached repeat (sync)'] = fmt(await cachedRate(jwk, tokens[0]));
  rows.push(row);
  console.log(row);
}
console.table(rows);
