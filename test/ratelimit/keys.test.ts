import t from 'tap';
import { createHash } from 'node:crypto';
import { HeaderList } from '../../src/pipeline/headers.js';
import { compileKey, ipKey, ipv4Prefix, ipv6Prefix, type KeySource } from '../../src/ratelimit/keys.js';

function req(over: Partial<KeySource> & { headers?: HeaderList } = {}): KeySource {
  return { clientAddress: '203.0.113.77', headers: new HeaderList([]), route: { name: 'orders' }, state: {}, ...over };
}
const S = '\u001f';
const principal = {
  method: 'jwt',
  subject: 'user-1',
  consumer: 'billing',
  environment: 'prod',
  scopes: new Set<string>(),
  roles: new Set<string>(),
  claims: { tenant: 'acme', tier: 3, sub: 'user-1' },
};

t.test('ip and prefixes', async (tt) => {
  tt.equal(ipv4Prefix('203.0.113.77', 24), '203.0.113.0/24');
  tt.equal(ipv4Prefix('203.0.113.77', 16), '203.0.0.0/16');
  tt.equal(ipv4Prefix('203.0.113.77', 0), '0.0.0.0/0');
  tt.equal(ipv6Prefix('2001:db8:aaaa:bbbb:1:2:3:4', 64), '2001:db8:aaaa:bbbb:0:0:0:0/64');
  tt.equal(ipv6Prefix('2001:db8::1', 48), '2001:db8:0:0:0:0:0:0/48');
  tt.equal(ipv6Prefix('2001:db8:aaaa:bbff::1', 56), '2001:db8:aaaa:bb00:0:0:0:0/56');
  tt.equal(ipv6Prefix('::ffff:1.2.3.4', 128), '0:0:0:0:0:ffff:102:304/128');
  tt.equal(ipKey('::ffff:10.1.2.3', 24, 64), '10.1.2.0/24', 'IPv4-mapped counts as IPv4');
  tt.equal(ipKey('10.1.2.3', 32, 128), '10.1.2.3');
  tt.equal(ipKey('2001:DB8::1', 32, 128), '2001:db8::1');
  tt.equal(compileKey(['ip'], 'p')(req()), `p${S}203.0.113.77`);
  tt.equal(compileKey(['ip/24'], 'p')(req()), `p${S}203.0.113.0/24`);
  tt.equal(compileKey(['ip/24'], 'p')(req({ clientAddress: '2001:db8:1:2:3::9' })), `p${S}2001:db8:1:2:0:0:0:0/64`);
  tt.equal(compileKey(['ip/24/48'], 'p')(req({ clientAddress: '2001:db8:1:2:3::9' })), `p${S}2001:db8:1:0:0:0:0:0/48`);
  tt.throws(() => compileKey(['ip/33'], 'p'));
});

t.test('consumer, api key, route, header, claim and combinations', async (tt) => {
  const withId = req({ state: { identity: principal }, headers: new HeaderList(['x-api-key', 'secret-key', 'x-tenant', 'blue']) });
  tt.equal(compileKey(['consumer'], 'p')(withId), `p${S}c:billing`);
  tt.equal(compileKey(['consumer'], 'p')(req()), `p${S}ip:203.0.113.77`, 'no identity: falls back to the address');
  const hashed = createHash('sha256').update('secret-key').digest('base64url').slice(0, 22);
  tt.equal(compileKey(['apikey'], 'p')(withId), `p${S}${hashed}`);
  tt.notMatch(compileKey(['apikey'], 'p')(withId), /secret-key/, 'the key itself never appears');
  tt.equal(compileKey(['route'], 'p')(withId), `p${S}orders`);
  tt.equal(compileKey(['header:X-Tenant'], 'p')(withId), `p${S}blue`);
  tt.equal(compileKey(['header:x-missing'], 'p')(withId), `p${S}`);
  tt.equal(compileKey(['claim:tenant'], 'p')(withId), `p${S}acme`);
  tt.equal(compileKey(['claim:tier'], 'p')(withId), `p${S}3`);
  tt.equal(compileKey(['claim:tenant'], 'p')(req()), `p${S}`);
  tt.equal(compileKey(['route', 'consumer'], 'p')(withId), `p${S}orders${S}c:billing`);
  tt.equal(compileKey(['route', 'ip/24', 'claim:tenant'], 'p')(withId), `p${S}orders${S}203.0.113.0/24${S}acme`);
  tt.equal(compileKey([], 'global')(withId), 'global');
  const long = 'x'.repeat(5000);
  const k = compileKey(['header:x-long'], 'p')(req({ headers: new HeaderList(['x-long', long]) }));
  tt.ok(k.length < 40, 'long values are hashed');
  tt.throws(() => compileKey(['cookie:x'], 'p'));
});
