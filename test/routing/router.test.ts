import t from 'tap';
import { Router, RouteConflictError, type RouteSpec } from '../../src/routing/router.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

/** Value of the found route, or the lookup kind ('not-found' / '405:GET,PUT'). */
function hit<T>(r: Router<T>, host: string, method: string, path: string): T | string {
  const res = r.lookup(host, method, path);
  if (res.kind === 'found') return res.value;
  if (res.kind === 'method-not-allowed') return '405:' + res.allow.join(',');
  return res.kind;
}

function expectConflict(tt: Tap, specs: RouteSpec<string>[], message: RegExp, indexes?: number[]): void {
  tt.throws(() => new Router(specs), message);
  try {
    new Router(specs);
  } catch (err) {
    tt.ok(err instanceof RouteConflictError, 'is a RouteConflictError');
    tt.ok(err instanceof Error);
    if (indexes && err instanceof RouteConflictError) tt.same(err.specIndexes, indexes);
  }
}

t.test('exact paths', async (tt) => {
  const r = new Router<string>([
    { path: '/health', value: 'health' },
    { path: '/', value: 'root' },
    { path: '/a/b/', value: 'ab-slash' },
  ]);
  tt.equal(hit(r, 'x', 'GET', '/health'), 'health');
  tt.equal(hit(r, 'x', 'GET', '/'), 'root');
  tt.equal(hit(r, 'x', 'GET', '/health/'), 'not-found');
  tt.equal(hit(r, 'x', 'GET', '/healthz'), 'not-found');
  tt.equal(hit(r, 'x', 'GET', '/a/b/'), 'ab-slash');
  tt.equal(hit(r, 'x', 'GET', '/a/b'), 'not-found');
  tt.equal(hit(r, 'x', 'GET', ''), 'not-found');
  const res = r.lookup('x', 'GET', '/health');
  tt.same(res, { kind: 'found', value: 'health', params: null });
});

t.test('params', async (tt) => {
  const r = new Router<string>([
    { path: '/users/:id', value: 'user' },
    { path: '/users/:id/orders/:orderId', value: 'order' },
    { path: '/users/:id/', value: 'user-slash' },
  ]);
  tt.same(r.lookup('h', 'GET', '/users/42'), { kind: 'found', value: 'user', params: { id: '42' } });
  tt.same(r.lookup('h', 'GET', '/users/42/orders/a%20b'), {
    kind: 'found',
    value: 'order',
    params: { id: '42', orderId: 'a%20b' },
  });
  tt.same(r.lookup('h', 'GET', '/users/42/'), { kind: 'found', value: 'user-slash', params: { id: '42' } });
  // A param matches exactly one non-empty segment.
  tt.equal(hit(r, 'h', 'GET', '/users'), 'not-found');
  tt.equal(hit(r, 'h', 'GET', '/users/'), 'not-found');
  tt.equal(hit(r, 'h', 'GET', '/users/42/orders'), 'not-found');
  tt.equal(hit(r, 'h', 'GET', '/users/42/orders/'), 'not-found');
  tt.equal(hit(r, 'h', 'GET', '/users/42/orders/7/x'), 'not-found');

  // Param names need not agree between patterns sharing a trie path.
  const r2 = new Router<string>([
    { path: '/u/:a/x', value: 'x' },
    { path: '/u/:b/y', value: 'y' },
    { path: '/u/:c', methods: ['GET'], value: 'get' },
    { path: '/u/:d', methods: ['PUT'], value: 'put' },
  ]);
  tt.same(r2.lookup('h', 'GET', '/u/1/x'), { kind: 'found', value: 'x', params: { a: '1' } });
  tt.same(r2.lookup('h', 'GET', '/u/1/y'), { kind: 'found', value: 'y', params: { b: '1' } });
  tt.same(r2.lookup('h', 'GET', '/u/1'), { kind: 'found', value: 'get', params: { c: '1' } });
  tt.same(r2.lookup('h', 'PUT', '/u/1'), { kind: 'found', value: 'put', params: { d: '1' } });

  // Param values that look like object keys are stored safely.
  const r3 = new Router<string>([{ path: '/p/:__proto__', value: 'p' }]);
  const res = r3.lookup('h', 'GET', '/p/x');
  tt.ok(res.kind === 'found' && res.params !== null && res.params['__proto__'] === 'x');
});

t.test('prefixes', async (tt) => {
  const r = new Router<string>([
    { path: '/api/*', value: 'api' },
    { path: '/api/v1/*', value: 'v1' },
    { path: '/static/*', value: 'static' },
  ]);
  tt.equal(hit(r, 'h', 'GET', '/api'), 'api');
  tt.equal(hit(r, 'h', 'GET', '/api/'), 'api');
  tt.equal(hit(r, 'h', 'GET', '/api/x/y'), 'api');
  tt.equal(hit(r, 'h', 'GET', '/api/v1'), 'v1');
  tt.equal(hit(r, 'h', 'GET', '/api/v1/'), 'v1');
  tt.equal(hit(r, 'h', 'GET', '/api/v1/users/1'), 'v1');
  tt.equal(hit(r, 'h', 'GET', '/api/v10'), 'api');
  tt.equal(hit(r, 'h', 'GET', '/apix'), 'not-found');
  tt.equal(hit(r, 'h', 'GET', '/'), 'not-found');
  tt.same(r.lookup('h', 'GET', '/static/a.css'), { kind: 'found', value: 'static', params: null });

  const all = new Router<string>([{ path: '/*', value: 'all' }]);
  tt.equal(hit(all, 'h', 'GET', '/'), 'all');
  tt.equal(hit(all, 'h', 'GET', '/anything/at/all'), 'all');
  tt.equal(hit(all, 'h', 'GET', 'relative'), 'not-found');
});

t.test('path specificity: exact > params > prefix', async (tt) => {
  const r = new Router<string>([
    { path: '/*', value: 'catchall' },
    { path: '/users/*', value: 'users-prefix' },
    { path: '/users/:id', value: 'user-param' },
    { path: '/users/me', value: 'me' },
  ]);
  tt.equal(hit(r, 'h', 'GET', '/users/me'), 'me');
  tt.equal(hit(r, 'h', 'GET', '/users/7'), 'user-param');
  tt.equal(hit(r, 'h', 'GET', '/users/7/x'), 'users-prefix');
  tt.equal(hit(r, 'h', 'GET', '/users'), 'users-prefix');
  tt.equal(hit(r, 'h', 'GET', '/other'), 'catchall');
});

t.test('param specificity: literal segment beats param, left to right', async (tt) => {
  // Order of specs must not matter.
  const specs: RouteSpec<string>[] = [
    { path: '/:a/:b/:c', value: 'ppp' },
    { path: '/:a/b/:c', value: 'plp' },
    { path: '/a/:b/:c', value: 'lpp' },
    { path: '/a/:b/c', value: 'lpl' },
    { path: '/:a/b/c', value: 'pll' },
  ];
  for (const order of [specs, [...specs].reverse()]) {
    const r = new Router(order);
    tt.equal(hit(r, 'h', 'GET', '/a/b/c'), 'lpl', 'first literal wins over later literals');
    tt.equal(hit(r, 'h', 'GET', '/a/b/x'), 'lpp');
    tt.equal(hit(r, 'h', 'GET', '/a/x/c'), 'lpl');
    tt.equal(hit(r, 'h', 'GET', '/x/b/c'), 'pll');
    tt.equal(hit(r, 'h', 'GET', '/x/b/x'), 'plp');
    tt.equal(hit(r, 'h', 'GET', '/x/y/z'), 'ppp');
  }
  // Backtracking: literal branch dead-ends, param branch matches.
  const r = new Router<string>([
    { path: '/a/b/c', value: 'abc' },
    { path: '/:x/b/d', value: 'xbd' },
  ]);
  tt.same(r.lookup('h', 'GET', '/a/b/d'), { kind: 'found', value: 'xbd', params: { x: 'a' } });
});

t.test('prefix specificity: longer prefix wins regardless of order', async (tt) => {
  const specs: RouteSpec<string>[] = [
    { path: '/*', value: '0' },
    { path: '/a/*', value: '1' },
    { path: '/a/b/*', value: '2' },
    { path: '/a/b/c/*', value: '3' },
  ];
  for (const order of [specs, [...specs].reverse()]) {
    const r = new Router(order);
    tt.equal(hit(r, 'h', 'GET', '/a/b/c/d/e'), '3');
    tt.equal(hit(r, 'h', 'GET', '/a/b/c'), '3');
    tt.equal(hit(r, 'h', 'GET', '/a/b/cd'), '2');
    tt.equal(hit(r, 'h', 'GET', '/a/bc'), '1');
    tt.equal(hit(r, 'h', 'GET', '/ab'), '0');
  }
});

t.test('host specificity: exact > wildcard > any', async (tt) => {
  const r = new Router<string>([
    { path: '/health', value: 'any-health' },
    { host: '*.example.com', path: '/*', value: 'wild' },
    { host: '*.b.example.com', path: '/*', value: 'wild-b' },
    { host: 'api.example.com', path: '/*', value: 'api' },
    { host: 'API.Other.COM', path: '/x', value: 'other-x' },
  ]);
  // Host beats path specificity: exact-host '/*' beats any-host exact '/health'.
  tt.equal(hit(r, 'api.example.com', 'GET', '/health'), 'api');
  tt.equal(hit(r, 'www.example.com', 'GET', '/health'), 'wild');
  tt.equal(hit(r, 'x.b.example.com', 'GET', '/health'), 'wild-b', 'longest wildcard suffix wins');
  tt.equal(hit(r, 'x.y.example.com', 'GET', '/health'), 'wild', 'wildcard matches deeper subdomains');
  tt.equal(hit(r, 'example.com', 'GET', '/health'), 'any-health', 'wildcard needs a subdomain');
  tt.equal(hit(r, 'example.com', 'GET', '/other'), 'not-found');
  tt.equal(hit(r, 'evilexample.com', 'GET', '/x'), 'not-found');
  tt.equal(hit(r, '', 'GET', '/health'), 'any-health');
  tt.equal(hit(r, '.example.com', 'GET', '/x'), 'not-found');

  // Case-insensitive, port stripped, trailing dot ignored.
  tt.equal(hit(r, 'API.Example.Com', 'GET', '/health'), 'api');
  tt.equal(hit(r, 'api.example.com:8443', 'GET', '/health'), 'api');
  tt.equal(hit(r, 'API.EXAMPLE.COM:80', 'GET', '/health'), 'api');
  tt.equal(hit(r, 'api.example.com.', 'GET', '/health'), 'api');
  tt.equal(hit(r, 'WWW.example.com:1', 'GET', '/q'), 'wild');
  tt.equal(hit(r, 'api.other.com', 'GET', '/x'), 'other-x');
  tt.equal(hit(r, 'api.other.com:9', 'GET', '/y'), 'not-found');

  // Falls through to less specific hosts when the path does not match there.
  tt.equal(hit(r, 'api.other.com', 'GET', '/health'), 'any-health');

  const v6 = new Router<string>([{ host: '[::1]', path: '/', value: 'v6' }]);
  tt.equal(hit(v6, '[::1]:8080', 'GET', '/'), 'v6');
  tt.equal(hit(v6, '[::1]', 'GET', '/'), 'v6');
  tt.equal(hit(v6, '::1', 'GET', '/'), 'not-found');
});

t.test('methods: 405 vs fallthrough', async (tt) => {
  const r = new Router<string>([
    { path: '/api/users', methods: ['GET'], value: 'list' },
    { path: '/api/users', methods: ['POST', 'DELETE'], value: 'create' },
    { path: '/api/*', value: 'api-any' },
    { path: '/admin', methods: ['GET', 'HEAD'], value: 'admin' },
    { path: '/admin/:x', methods: ['PUT'], value: 'admin-x' },
    { path: '/admin/*', methods: ['PATCH', 'GET'], value: 'admin-prefix' },
  ]);
  tt.equal(hit(r, 'h', 'GET', '/api/users'), 'list');
  tt.equal(hit(r, 'h', 'POST', '/api/users'), 'create');
  tt.equal(hit(r, 'h', 'PUT', '/api/users'), 'api-any', 'less specific route takes other methods');
  tt.equal(hit(r, 'h', 'get', '/api/users'), 'api-any', 'methods are case-sensitive');

  // '/admin/*' also matches '/admin', so its methods are part of the union.
  tt.same(r.lookup('h', 'POST', '/admin'), { kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'PATCH'] });
  tt.equal(hit(r, 'h', 'PATCH', '/admin'), 'admin-prefix');
  tt.equal(hit(r, 'h', 'HEAD', '/admin'), 'admin');
  tt.equal(hit(r, 'h', 'PUT', '/admin/1'), 'admin-x');
  tt.equal(hit(r, 'h', 'GET', '/admin/1'), 'admin-prefix', 'param route without GET falls through to prefix');
  tt.equal(hit(r, 'h', 'DELETE', '/admin/1'), '405:GET,PATCH,PUT', 'union of all matching routes, sorted');
  tt.equal(hit(r, 'h', 'DELETE', '/admin/1/2'), '405:GET,PATCH');

  // 405 union spans host levels, and a less specific host can still serve the method.
  const r2 = new Router<string>([
    { host: 'a.example.com', path: '/x', methods: ['GET'], value: 'exact-host' },
    { host: '*.example.com', path: '/x', methods: ['PUT'], value: 'wild-host' },
    { path: '/x', methods: ['POST'], value: 'any-host' },
  ]);
  tt.equal(hit(r2, 'a.example.com', 'GET', '/x'), 'exact-host');
  tt.equal(hit(r2, 'a.example.com', 'PUT', '/x'), 'wild-host');
  tt.equal(hit(r2, 'a.example.com', 'POST', '/x'), 'any-host');
  tt.equal(hit(r2, 'a.example.com', 'DELETE', '/x'), '405:GET,POST,PUT');
  tt.equal(hit(r2, 'b.example.com', 'DELETE', '/x'), '405:POST,PUT');
  tt.equal(hit(r2, 'other', 'DELETE', '/x'), '405:POST');
  tt.equal(hit(r2, 'other', 'DELETE', '/y'), 'not-found');

  // The result must not leak state between lookups.
  tt.equal(hit(r2, 'other', 'DELETE', '/x'), '405:POST');
  tt.equal(hit(r, 'h', 'POST', '/nothing'), 'not-found');
});

t.test('results are deterministic and independent of spec order', async (tt) => {
  const specs: RouteSpec<string>[] = [
    { path: '/*', value: 'a' },
    { path: '/x/*', methods: ['GET'], value: 'b' },
    { path: '/x/:id', methods: ['POST'], value: 'c' },
    { path: '/x/y', methods: ['PUT'], value: 'd' },
    { host: 'h.test', path: '/x/*', methods: ['DELETE'], value: 'e' },
    { host: '*.test', path: '/:p/y', value: 'f' },
  ];
  const probes: [string, string, string][] = [];
  for (const host of ['h.test', 'g.test', 'other'])
    for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'])
      for (const p of ['/', '/x', '/x/y', '/x/z', '/q/y', '/x/y/z']) probes.push([host, m, p]);
  const base = new Router(specs);
  const expected = probes.map(([h, m, p]) => JSON.stringify(base.lookup(h, m, p)));
  // Deterministic permutations via rotation and reversal.
  for (let k = 0; k < specs.length; k++) {
    const rotated = [...specs.slice(k), ...specs.slice(0, k)];
    for (const order of [rotated, [...rotated].reverse()]) {
      const r = new Router(order);
      const got = probes.map(([h, m, p]) => JSON.stringify(r.lookup(h, m, p)));
      tt.same(got, expected);
    }
  }
  tt.equal(hit(base, 'h.test', 'DELETE', '/x/y'), 'e');
  tt.equal(hit(base, 'g.test', 'DELETE', '/x/y'), 'f');
  tt.equal(hit(base, 'other', 'PUT', '/x/y'), 'd');
  tt.equal(hit(base, 'other', 'POST', '/x/y'), 'c');
  tt.equal(hit(base, 'other', 'GET', '/x/y'), 'b');
  tt.equal(hit(base, 'other', 'PATCH', '/x/y'), 'a');
});

t.test('conflict detection', async (tt) => {
  expectConflict(
    tt,
    [
      { path: '/a', value: 'x' },
      { path: '/b', value: 'y' },
      { path: '/a', value: 'z' },
    ],
    /routes #0 and #2 conflict/,
    [0, 2],
  );
  expectConflict(
    tt,
    [
      { path: '/a', methods: ['GET', 'POST'], value: 'x' },
      { path: '/a', methods: ['PUT', 'POST'], value: 'y' },
    ],
    /#0 and #1.*POST/,
    [0, 1],
  );
  expectConflict(
    tt,
    [
      { path: '/a', methods: ['GET'], value: 'x' },
      { path: '/a', value: 'y' },
    ],
    /#0 and #1.*any method/,
  );
  expectConflict(
    tt,
    [
      { path: '/u/:id', value: 'x' },
      { path: '/u/:name', value: 'y' },
    ],
    /#0 and #1/,
  );
  expectConflict(
    tt,
    [
      { host: 'A.example.com', path: '/api/*', value: 'x' },
      { host: 'a.EXAMPLE.com', path: '/api/*', value: 'y' },
    ],
    /#0 and #1.*a\.example\.com/,
  );
  expectConflict(
    tt,
    [
      { host: '*.example.com', path: '/', value: 'x' },
      { host: '*.Example.com', path: '/', value: 'y' },
    ],
    /#0 and #1/,
  );

  // Not conflicts: different hosts, different kinds, disjoint methods.
  tt.doesNotThrow(
    () =>
      new Router<string>([
        { path: '/a', value: '1' },
        { host: 'x.com', path: '/a', value: '2' },
        { host: '*.x.com', path: '/a', value: '3' },
        { path: '/a/*', value: '4' },
        { path: '/:a', value: '5' },
        { path: '/b', methods: ['GET'], value: '6' },
        { path: '/b', methods: ['POST'], value: '7' },
        { path: '/a/', value: '8' },
      ]),
  );
});

t.test('invalid specs', async (tt) => {
  const bad: [RouteSpec<string>, RegExp][] = [
    [{ path: 'a', value: '' }, /route #1: invalid path pattern.*start with/],
    [{ path: '', value: '' }, /start with/],
    [{ path: '/a/*/b', value: '' }, /'\*'/],
    [{ path: '/a*', value: '' }, /'\*'/],
    [{ path: '/a//*', value: '' }, /empty segment/],
    [{ path: '/a//b', value: '' }, /normalized/],
    [{ path: '/a/../b', value: '' }, /normalized|escapes/],
    [{ path: '/a/./b', value: '' }, /normalized/],
    [{ path: '/%7euser', value: '' }, /normalized/],
    [{ path: '/a b', value: '' }, /space/],
    [{ path: '/:', value: '' }, /parameter name/],
    [{ path: '/:1x', value: '' }, /parameter name/],
    [{ path: '/:a/:a', value: '' }, /duplicate/],
    [{ path: '/:a/*', value: '' }, /prefix patterns cannot contain parameters/],
    [{ path: '/a', methods: [], value: '' }, /methods/],
    [{ path: '/a', methods: ['GET', ''], value: '' }, /invalid method/],
    [{ path: '/a', methods: ['GE T'], value: '' }, /invalid method/],
    [{ host: '', path: '/a', value: '' }, /invalid host/],
    [{ host: 'example.com:8080', path: '/a', value: '' }, /invalid host/],
    [{ host: '*', path: '/a', value: '' }, /invalid host/],
    [{ host: '*.', path: '/a', value: '' }, /invalid host/],
    [{ host: 'a.*.com', path: '/a', value: '' }, /invalid host/],
    [{ host: '*.*.com', path: '/a', value: '' }, /invalid wildcard host/],
  ];
  for (const [spec, re] of bad) {
    expectConflict(tt, [{ path: '/ok', value: '' }, spec], re, [1]);
  }
  // Literal colons inside a segment and semicolons are plain literals.
  const r = new Router<string>([
    { path: '/a:b', value: 'colon' },
    { path: '/m;v=1', value: 'semi' },
    { path: '/a%3Ab', value: 'enc' },
  ]);
  tt.equal(hit(r, 'h', 'GET', '/a:b'), 'colon');
  tt.equal(hit(r, 'h', 'GET', '/m;v=1'), 'semi');
  tt.equal(hit(r, 'h', 'GET', '/a%3Ab'), 'enc');
  tt.doesNotThrow(() => new Router([]));
  tt.equal(hit(new Router([]), 'h', 'GET', '/'), 'not-found');
});

t.test('1,000 routes: unknown paths and hits', async (tt) => {
  const specs: RouteSpec<number>[] = [];
  for (let i = 0; i < 250; i++) {
    specs.push({ path: `/svc${i}/health`, methods: ['GET'], value: i });
    specs.push({ path: `/svc${i}/items/:id`, value: 1000 + i });
    specs.push({ path: `/svc${i}/*`, methods: ['GET', 'POST'], value: 2000 + i });
    specs.push({ host: `h${i}.example.com`, path: '/x', value: 3000 + i });
  }
  tt.equal(specs.length, 1000);
  const r = new Router(specs);
  tt.equal(r.lookup('h', 'GET', '/nope').kind, 'not-found');
  tt.equal(r.lookup('h', 'GET', '/svc1000/health').kind, 'not-found');
  tt.equal(r.lookup('h5.example.com', 'GET', '/y').kind, 'not-found');
  tt.equal(r.lookup('h', 'GET', '/' + 'a/'.repeat(3000)).kind, 'not-found');
  tt.equal(hit(r, 'h', 'GET', '/svc249/health'), 249);
  tt.same(r.lookup('h', 'PUT', '/svc17/items/abc'), { kind: 'found', value: 1017, params: { id: 'abc' } });
  tt.equal(hit(r, 'h', 'GET', '/svc17/items'), 2017);
  tt.equal(hit(r, 'h', 'DELETE', '/svc17/health'), '405:GET,POST');
  tt.equal(hit(r, 'H123.Example.com:443', 'GET', '/x'), 3123);

  const start = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) r.lookup('h', 'GET', '/unknown/path/' + (i & 7));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  tt.ok(ms < 2000, `100k unknown lookups took ${ms.toFixed(1)} ms`);
});

t.test('caseInsensitive routes keep the precedence of their pattern kind', async (tt) => {
  const r = new Router<string>([
    { path: '/admin/*', caseInsensitive: true, value: 'ci-prefix' },
    { path: '/Admin/Login', value: 'exact-case' },
    { path: '/status', caseInsensitive: true, value: 'ci-exact' },
    { path: '/*', value: 'rest' },
    { path: '/Items/:id', caseInsensitive: true, methods: ['GET'], value: 'ci-param' },
    { host: 'api.test', path: '/*', value: 'host-rest' },
  ]);
  tt.equal(hit(r, 'a', 'GET', '/ADMIN/x'), 'ci-prefix', 'a longer case-insensitive prefix beats a shorter exact-case one');
  tt.equal(hit(r, 'a', 'GET', '/Admin/Login'), 'exact-case', 'an exact path beats a prefix');
  tt.equal(hit(r, 'a', 'GET', '/admin/login'), 'ci-prefix', 'the exact-case route is byte-exact');
  tt.equal(hit(r, 'a', 'GET', '/STATUS'), 'ci-exact');
  tt.equal(hit(r, 'a', 'GET', '/items/7'), 'ci-param');
  tt.equal(hit(r, 'a', 'POST', '/ITEMS/7'), 'rest', 'a method the param route lacks falls to the prefix');
  const found = r.lookup('a', 'GET', '/iTeMs/AbC');
  tt.same(found.kind === 'found' ? found.params : null, { id: 'AbC' }, 'parameter values keep their case');
  tt.equal(hit(r, 'api.test', 'GET', '/ADMIN/x'), 'host-rest', 'host level still comes first');
  tt.equal(hit(r, 'a', 'GET', '/administrator'), 'rest');
});
