/**
 * claims.ts against jose: for asymmetric tokens the verifier checks the
 * registered claims itself (on the main thread, before the signature), so
 * over a matrix of claim sets and issuer rules its verdict must equal the one
 * jose's jwtVerify gives with the options the verifier used to give it (and
 * the verifier's own extra: an iat in the future is refused).
 */
import t from 'tap';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { SignJWT, jwtVerify } from 'jose';
import { now } from './fixtures-jwt.js';

const dist = fileURLToPath(new URL('../../dist/identity/jwt/claims.js', import.meta.url));
const { claimsProblem } = (await import(pathToFileURL(dist).href)) as typeof import('../../src/identity/jwt/claims.js');

const secret = new TextEncoder().encode('a-test-secret-of-at-least-32-bytes!!');
const ISS = 'https://claims.example';

async function joseVerdict(claims: Record<string, unknown>, rules: Parameters<typeof claimsProblem>[1]): Promise<boolean> {
  const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(secret);
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ['HS256'],
      issuer: rules.issuer,
      audience: rules.audiences.length > 0 ? rules.audiences : undefined,
      clockTolerance: rules.clockSkewSec,
      maxTokenAge: rules.maxTokenAgeSec > 0 ? rules.maxTokenAgeSec : undefined,
      requiredClaims: ['exp', ...rules.requiredClaims],
    });
    if (typeof payload.iat === 'number' && payload.iat > now() + rules.clockSkewSec) return false;
    return typeof payload.exp === 'number';
  } catch {
    return false;
  }
}

const T = now();
const base = { iss: ISS, aud: 'api://a', sub: 'u', iat: T - 10, exp: T + 300 };
const claimSets: Array<[string, Record<string, unknown>]> = [
  ['valid', base],
  ['no exp', { ...base, exp: undefined }],
  ['exp a string', { ...base, exp: String(T + 300) }],
  ['exp null', { ...base, exp: null }],
  ['expired inside the skew', { ...base, exp: T - 3 }],
  ['expired beyond the skew', { ...base, exp: T - 60 }],
  ['nbf inside the skew', { ...base, nbf: T + 3 }],
  ['nbf beyond the skew', { ...base, nbf: T + 60 }],
  ['nbf a string', { ...base, nbf: 'soon' }],
  ['iat a string', { ...base, iat: 'then' }],
  ['iat in the future beyond the skew', { ...base, iat: T + 60 }],
  ['iat old', { ...base, iat: T - 4000 }],
  ['no iat', { ...base, iat: undefined }],
  ['other iss', { ...base, iss: 'https://evil.example' }],
  ['no iss', { ...base, iss: undefined }],
  ['iss an array', { ...base, iss: [ISS] }],
  ['aud array holding ours', { ...base, aud: ['x', 'api://a'] }],
  ['aud array without ours', { ...base, aud: ['x', 'y'] }],
  ['aud other', { ...base, aud: 'api://b' }],
  ['no aud', { ...base, aud: undefined }],
  ['aud a number', { ...base, aud: 7 }],
  ['tenant present', { ...base, tenant: 't1' }],
];
const ruleSets: Array<[string, Parameters<typeof claimsProblem>[1]]> = [
  ['skew 5', { issuer: ISS, audiences: ['api://a'], clockSkewSec: 5, maxTokenAgeSec: 0, requiredClaims: [] }],
  ['skew 0, max age 60, tenant required', { issuer: ISS, audiences: ['api://a'], clockSkewSec: 0, maxTokenAgeSec: 60, requiredClaims: ['tenant'] }],
  ['no audience configured', { issuer: ISS, audiences: [], clockSkewSec: 30, maxTokenAgeSec: 0, requiredClaims: [] }],
  ['two audiences, max age 3600', { issuer: ISS, audiences: ['api://b', 'api://a'], clockSkewSec: 30, maxTokenAgeSec: 3600, requiredClaims: [] }],
];

t.test('claimsProblem agrees with jose on every claim set and rule set', async (t) => {
  let n = 0;
  for (const [rname, rules] of ruleSets) {
    for (const [cname, raw] of claimSets) {
      const claims = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
      const ours = claimsProblem(claims, rules, now()) === undefined;
      const theirs = await joseVerdict(claims, rules);
      t.equal(ours, theirs, `${cname} / ${rname}: ${theirs ? 'accepted' : 'refused'}`);
      n++;
    }
  }
  t.equal(n, claimSets.length * ruleSets.length);
});

t.test('control: the matrix holds both verdicts', async (t) => {
  const rules = ruleSets[0]![1];
  t.equal(claimsProblem(base, rules, now()), undefined, 'valid accepted');
  t.match(claimsProblem({ ...base, exp: T - 60 }, rules, now()), /exp/, 'expired refused with a reason naming exp');
});
