/**
 * The three places an asymmetric signature can be checked give the same
 * answers: the worker pool (batched), the main thread when the pool is backed
 * up or a batch is too small to be worth a round trip, and the main thread
 * without a pool. Each accepts a valid token and refuses a tampered, an
 * expired, a wrong-algorithm and a foreign-key token; a burst mixing good and
 * bad tokens across both paths gets every answer right.
 */
import t from 'tap';
import type { AuthResult } from '../../src/identity/types.js';
import { b64, distVerifier, issuerConfig, makeKey, now, signToken, silentLog } from './fixtures-jwt.js';

const { JwtVerifier } = await distVerifier();

const es = await makeKey('ES256', 'es-1');
const rs = await makeKey('RS256', 'rs-1');
const ed = await makeKey('EdDSA', 'ed-1');
const ps = await makeKey('PS256', 'ps-1');
const foreign = await makeKey('ES256', 'es-1'); // same kid, other key
const ISS = 'https://paths.example';
const issuers = [
  issuerConfig('paths', ISS, {
    jwks: [es.publicJwk, rs.publicJwk, ed.publicJwk, ps.publicJwk] as Record<string, unknown>[],
    algorithms: ['ES256', 'RS256', 'EdDSA', 'PS256'],
  }),
  issuerConfig('es-only', 'https://es-only.example', { jwks: [es.publicJwk, rs.publicJwk] as Record<string, unknown>[], algorithms: ['ES256'] }),
];

const modes = {
  // minBatch 1 and a queue longer than any burst here: every token goes to a worker.
  pool: { workers: 1, minBatch: 1, maxQueued: 10_000 },
  // maxQueued 0: a pool is there, every token is checked on the main thread anyway.
  'inline beside a pool': { workers: 1, maxQueued: 0 },
  'no pool': { workers: 0 },
} as const;

function tamper(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${h}.${b64({ ...claims, sub: 'admin' })}.${s}`;
}

const good = {
  ES256: await signToken(es, ISS),
  RS256: await signToken(rs, ISS),
  EdDSA: await signToken(ed, ISS),
  PS256: await signToken(ps, ISS),
};
const bad: Record<string, [string, string[]]> = {
  'tampered ES256 payload': [tamper(good.ES256), ['paths']],
  'tampered RS256 payload': [tamper(good.RS256), ['paths']],
  'tampered EdDSA payload': [tamper(good.EdDSA), ['paths']],
  'ES256 signature of another key under the same kid': [await signToken(foreign, ISS), ['paths']],
  'expired beyond the skew': [await signToken(es, ISS, { claims: { iat: now() - 600, exp: now() - 60 } }), ['paths']],
  'not yet valid beyond the skew': [await signToken(es, ISS, { claims: { nbf: now() + 60 } }), ['paths']],
  'RS256 where only ES256 is allowed': [await signToken(rs, 'https://es-only.example'), ['es-only']],
  'ES256 signature relabelled RS256': [`${b64({ alg: 'RS256', kid: 'rs-1' })}.${good.ES256.split('.')[1]}.${good.ES256.split('.')[2]}`, ['paths']],
  'signature cut short': [good.ES256.slice(0, -8), ['paths']],
  'no signature': [good.ES256.slice(0, good.ES256.lastIndexOf('.') + 1), ['paths']],
};

for (const [mode, options] of Object.entries(modes)) {
  t.test(mode, async (t) => {
    const verifier = new JwtVerifier(issuers, { log: silentLog, cacheEntries: 0, ...options });
    await verifier.start();
    t.teardown(() => verifier.close());

    for (const [alg, token] of Object.entries(good)) {
      const r: AuthResult = await verifier.verify(token, ['paths']);
      t.ok(r.ok, `valid ${alg} accepted`, r.ok ? {} : { reason: r.reason });
    }
    for (const [why, [token, allowed]] of Object.entries(bad)) {
      const r: AuthResult = await verifier.verify(token, allowed);
      t.match(r, { ok: false, error: /^invalid_(token|request)$/ }, `${why}: refused`, r.ok ? { got: 'accepted' } : { reason: r.reason });
    }

    // A burst: good and tampered tokens interleaved, all in flight at once.
    const burst = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const token = await signToken([es, rs, ed][i % 3]!, ISS, { claims: { sub: `user-${i}` } });
        return i % 2 === 0 ? { token, ok: true } : { token: tamper(token), ok: false };
      }),
    );
    const answers = await Promise.all(burst.map((b) => verifier.verify(b.token, ['paths'])));
    const wrong = answers.filter((a, i) => a.ok !== burst[i]!.ok).length;
    t.equal(wrong, 0, 'every token of a 120-token burst answered right');
    const subjects = answers.filter((a) => a.ok).map((a) => (a.ok ? a.principal.subject : ''));
    t.equal(new Set(subjects).size, 60, 'each accepted token keeps its own subject');
  });
}

t.test('a pool with a small queue: part of a burst is verified inline, all answers right', async (t) => {
  const verifier = new JwtVerifier(issuers, { log: silentLog, cacheEntries: 0, workers: 1, minBatch: 2, maxQueued: 5, batchSize: 4 });
  await verifier.start();
  t.teardown(() => verifier.close());
  const tokens = await Promise.all(Array.from({ length: 60 }, (_, i) => signToken(es, ISS, { claims: { sub: `u${i}` } })));
  const mixed = tokens.map((tok, i) => (i % 3 === 0 ? tamper(tok) : tok));
  const raw = mixed.map((tok) => verifier.verify(tok, ['paths']));
  // An inline answer comes back synchronously, a pooled one as a Promise.
  const pooled = raw.filter((r) => r instanceof Promise).length;
  t.ok(pooled >= 5 && pooled < raw.length, `both paths used (${pooled} of ${raw.length} pooled)`);
  const answers = await Promise.all(raw);
  t.ok(answers.every((a, i) => a.ok === (i % 3 !== 0)), 'tampered refused, valid accepted');
});
