import t from 'tap';
import { readFileSync } from 'node:fs';
import { configSchema } from '../../src/config/schema.js';
import { ConfigError, parseYaml, validateConfig } from '../../src/config/load.js';

t.test('config.schema.json is the schema the gateway validates with', async (t) => {
  const published = JSON.parse(readFileSync(new URL('../../config.schema.json', import.meta.url), 'utf8'));
  t.same(published, JSON.parse(JSON.stringify(configSchema)), 'run `npm run schema` after changing src/config/schema.ts');
});

const base = () => ({
  listeners: [{ name: 'l', port: 8080 }],
  upstreams: [{ name: 'orders', targets: [{ url: 'http://127.0.0.1:9000' }] }],
  routes: [{ name: 'r', match: { path: '/orders/*' }, upstream: 'orders', public: true }],
});

function issuesOf(input: unknown): string[] {
  try {
    validateConfig(input, '/');
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

t.test('defaults are filled in', async (t) => {
  const cfg = validateConfig(base(), '/');
  t.equal(cfg.listeners[0].host, '0.0.0.0');
  t.equal(cfg.listeners[0].segment, 'external');
  t.equal(cfg.upstreams[0].pool.maxConnections, 256);
  t.equal(cfg.upstreams[0].timeouts.connectMs, 5000);
  t.equal(cfg.routes[0].maxBodyBytes, 10 * 1024 * 1024);
  t.same(cfg.routes[0].stages, []);
});

t.test('errors name the path and the reason', async (t) => {
  const c1 = base();
  c1.routes.push({ name: 'r2', match: { path: '/x' }, upstream: 'ordrs', public: true });
  t.same(issuesOf(c1), ['routes[1].upstream: unknown upstream "ordrs" (did you mean "orders"?)']);

  const c2 = base() as Record<string, unknown>;
  (c2.listeners as Record<string, unknown>[])[0].prot = 1;
  t.match(issuesOf(c2), [/^listeners\[0\]: unknown field "prot" \(did you mean "port"\?\)$/]);

  const c3 = base();
  c3.listeners[0].port = 70000;
  t.match(issuesOf(c3), [/^listeners\[0\]\.port: must be <= 65535 \(got 70000\)$/]);

  const c4 = base();
  c4.upstreams.push({ name: 'orders', targets: [{ url: 'http://127.0.0.1:9001' }] });
  t.same(issuesOf(c4), ['upstreams[1].name: "orders" is already used by upstreams[0]']);

  const c5 = base();
  c5.upstreams[0].targets[0].url = 'http://127.0.0.1:9000/base';
  t.match(issuesOf(c5), [/^upstreams\[0\]\.targets\[0\]\.url: /]);

  const c6 = base() as Record<string, unknown>;
  (c6.routes as Record<string, unknown>[])[0].stages = [{ type: 'nope' }];
  t.match(issuesOf(c6), [/^routes\[0\]\.stages\[0\]\.type: "nope" is not one of .*"headers"/]);

  const c7 = base() as Record<string, unknown>;
  c7.trustedProxies = ['10.0.0.0/33'];
  t.match(issuesOf(c7), [/^trustedProxies\[0\]: .*invalid prefix length/]);

  const c8 = base();
  c8.routes.push({ name: 'r3', match: { path: '/orders/*' }, upstream: 'orders', public: true });
  t.match(issuesOf(c8), [/^routes: .*conflict/]);
});

t.test('YAML: duplicate keys are refused, aliases are capped', async (t) => {
  t.throws(() => parseYaml('a: 1\na: 2\n', 'f.yaml'), { name: 'ConfigError', issues: [/f\.yaml: Map keys must be unique/] });
  const bomb = ['a: &a [x,x,x,x,x,x,x,x,x,x]'];
  for (let i = 0; i < 8; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
  t.throws(() => parseYaml(bomb.join('\n'), 'bomb.yaml'), { name: 'ConfigError', issues: [/bomb\.yaml: .*alias/] }, 'billion-laughs document refused');
});

t.test('an API key digest is accepted in either case, as sha256sum prints it or upper-cased', async (t) => {
  const digest = 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD';
  const withKey = (sha256: string) => ({ ...base(), identity: { consumers: [{ name: 'c', apiKeys: [{ sha256 }] }] } });
  t.same(issuesOf(withKey(digest)), []);
  t.same(issuesOf(withKey(digest.toLowerCase())), []);
  t.match(issuesOf(withKey(digest.slice(1))).join('\n'), /sha256/, 'a short digest is still refused');
});

t.test('errors a person can act on: the value, the closest key, patterns in words', async (t) => {
  const typo = base() as Record<string, unknown>;
  (typo.routes as Record<string, unknown>[])[0].upstrem = 'orders';
  t.match(issuesOf(typo).join('\n'), 'routes[0]: unknown field "upstrem" (did you mean "upstream"?)');
  const far = base() as Record<string, unknown>;
  (far.routes as Record<string, unknown>[])[0].zzzzzz = 1;
  t.match(issuesOf(far).join('\n'), /unknown field "zzzzzz"$/m, 'no suggestion when nothing is close');
  const stage = base() as Record<string, unknown>;
  (stage.routes as Record<string, unknown>[])[0].stages = [{ type: 'inspect', levl: 2 }];
  t.match(issuesOf(stage).join('\n'), 'unknown field "levl" (did you mean "level"?)', 'inside a stage too');
  const url = base();
  url.upstreams[0].targets[0].url = 'ftp://127.0.0.1:9000';
  t.match(issuesOf(url).join('\n'), /"ftp:\/\/127\.0\.0\.1:9000" is not (a URL|an origin): /, 'a URL rule said in words, with the value');
  const mode = base() as Record<string, unknown>;
  (mode.routes as Record<string, unknown>[])[0].stages = [{ type: 'inspect', mode: 'blok' }];
  t.match(issuesOf(mode).join('\n'), '"blok" is not one of "block", "monitor" (did you mean "block"?)');
});

t.test('docs/configuration.md is generated from this schema', async (t) => {
  const { configReference } = await import('../../src/config/reference.js');
  const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  t.equal(committed, configReference(JSON.parse(JSON.stringify(configSchema))), 'run `npm run schema` after changing a schema');
  t.match(committed, '| `routes[].stages` | list of object |', 'routes list their stages');
  t.match(committed, '### Stage `protect`', 'every stage has its section');
});
