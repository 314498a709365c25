import t from 'tap';
import { createHash } from 'node:crypto';
import { ApiKeyAuthenticator, MAX_API_KEY_LENGTH, sha256Hex } from '../../src/identity/api-key.js';
import type { ConsumerConfig } from '../../src/identity/types.js';

function consumer(name: string, environment: string, keys: string[], groups: string[] = []): ConsumerConfig {
  return {
    name,
    environment,
    groups,
    apiKeys: keys.map((k) => ({ sha256: sha256Hex(k) })),
    certificates: [],
    allowCidrs: [],
    denyCidrs: [],
  };
}

const PROD_KEY = 'zk_prod_3b8f0c1e9a7d4f6b2c5e8a1d0f3b6c9e';
const PROD_KEY_2 = 'zk_prod_second-key';
const DEV_KEY = 'zk_dev_7a2c4e6f8b0d1f3a5c7e9b1d3f5a7c9e';

const auth = new ApiKeyAuthenticator([
  consumer('billing', 'prod', [PROD_KEY, PROD_KEY_2], ['payments', 'readers']),
  consumer('dev-tool', 'dev', [DEV_KEY]),
]);

t.test('sha256Hex is the lowercase hex SHA-256 of the UTF-8 key', async (tt) => {
  tt.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  tt.equal(sha256Hex(PROD_KEY), createHash('sha256').update(PROD_KEY).digest('hex'));
  tt.match(sha256Hex(''), /^[0-9a-f]{64}$/);
});

t.test('right key maps to its consumer', async (tt) => {
  tt.equal(auth.size, 3);
  const r = auth.authenticate(PROD_KEY);
  tt.ok(r.ok);
  if (!r.ok) return;
  const p = r.principal;
  tt.equal(p.method, 'apiKey');
  tt.equal(p.subject, 'billing');
  tt.equal(p.consumer, 'billing');
  tt.equal(p.environment, 'prod');
  tt.same([...p.roles].sort(), ['payments', 'readers']);
  tt.equal(p.scopes.size, 0);
  tt.same(p.claims, {});
  tt.equal(p.expiresAt, undefined);

  const second = auth.authenticate(PROD_KEY_2);
  tt.ok(second.ok && second.principal.consumer === 'billing', 'any of a consumer\'s keys works');
});

t.test('consumers in different environments', async (tt) => {
  const prod = auth.authenticate(PROD_KEY);
  const dev = auth.authenticate(DEV_KEY);
  tt.ok(prod.ok && dev.ok);
  if (!prod.ok || !dev.ok) return;
  tt.equal(prod.principal.environment, 'prod');
  tt.equal(dev.principal.environment, 'dev');
  tt.equal(dev.principal.consumer, 'dev-tool');
  tt.equal(dev.principal.roles.size, 0);
});

t.test('wrong keys are invalid_token', async (tt) => {
  tt.match(auth.authenticate('zk_prod_nope'), { ok: false, error: 'invalid_token' });
  // The digest itself is not a key.
  tt.match(auth.authenticate(sha256Hex(PROD_KEY)), { ok: false, error: 'invalid_token' });
  // One character different: first, middle, last; and case.
  const variants = [
    'Y' + PROD_KEY.slice(1),
    PROD_KEY.slice(0, 10) + (PROD_KEY[10] === 'a' ? 'b' : 'a') + PROD_KEY.slice(11),
    PROD_KEY.slice(0, -1) + (PROD_KEY.endsWith('e') ? 'f' : 'e'),
    PROD_KEY.toUpperCase(),
    PROD_KEY + ' ',
    PROD_KEY.slice(0, -1),
  ];
  for (const v of variants) {
    tt.not(v, PROD_KEY);
    tt.match(auth.authenticate(v), { ok: false, error: 'invalid_token' }, JSON.stringify(v));
  }
});

t.test('malformed keys are invalid_request', async (tt) => {
  tt.match(auth.authenticate(''), { ok: false, error: 'invalid_request' }, 'empty');
  tt.match(auth.authenticate('a'.repeat(MAX_API_KEY_LENGTH + 1)), { ok: false, error: 'invalid_request' }, 'oversize');
  tt.match(auth.authenticate('x'.repeat(100_000)), { ok: false, error: 'invalid_request' }, 'huge');
  tt.match(auth.authenticate('abc\u0000def'), { ok: false, error: 'invalid_request' }, 'NUL');
  tt.match(auth.authenticate('abc\r\nX-Injected: 1'), { ok: false, error: 'invalid_request' }, 'CRLF');
  tt.match(auth.authenticate('abc\tdef'), { ok: false, error: 'invalid_request' }, 'tab');
  tt.match(auth.authenticate('clé'), { ok: false, error: 'invalid_request' }, 'non-ASCII');
  tt.match(auth.authenticate('abc\u007f'), { ok: false, error: 'invalid_request' }, 'DEL');
  // Exactly at the limit is allowed (and just unknown).
  tt.match(auth.authenticate('a'.repeat(MAX_API_KEY_LENGTH)), { ok: false, error: 'invalid_token' });
});

t.test('a key of maximum length works', async (tt) => {
  const long = 'k'.repeat(MAX_API_KEY_LENGTH);
  const a = new ApiKeyAuthenticator([consumer('long', 'prod', [long])]);
  tt.match(a.authenticate(long), { ok: true, principal: { consumer: 'long' } });
});

t.test('digests in config: case-insensitive, validated, unique', async (tt) => {
  const c = consumer('upper', 'prod', []);
  c.apiKeys = [{ sha256: sha256Hex('k1').toUpperCase() }];
  tt.match(new ApiKeyAuthenticator([c]).authenticate('k1'), { ok: true, principal: { consumer: 'upper' } });

  const bad = consumer('bad', 'prod', []);
  bad.apiKeys = [{ sha256: 'not-a-digest' }];
  tt.throws(() => new ApiKeyAuthenticator([bad]), /identity\.consumers\[0\]\.apiKeys\[0\]\.sha256/);

  tt.throws(
    () => new ApiKeyAuthenticator([consumer('a', 'prod', ['shared']), consumer('b', 'dev', ['shared'])]),
    /identity\.consumers\[1\]\.apiKeys\[0\]: also a key of consumer "a"/,
  );
  tt.equal(new ApiKeyAuthenticator([]).authenticate(PROD_KEY).ok, false, 'no consumers: nothing matches');
});
