import t from 'tap';
import { normalizePath, type NormalizeResult } from '../../src/routing/normalize-path.js';

function okPath(r: NormalizeResult): string | undefined {
  return r.ok ? r.path : undefined;
}

function expectOk(tt: Tap, input: string, expected: string, opts?: Parameters<typeof normalizePath>[1]): void {
  const r = normalizePath(input, opts);
  tt.same(r, { ok: true, path: expected }, `${JSON.stringify(input)} -> ${JSON.stringify(expected)}`);
}

function expectFail(
  tt: Tap,
  input: string,
  reason?: string | RegExp,
  opts?: Parameters<typeof normalizePath>[1],
): void {
  const r = normalizePath(input, opts);
  tt.equal(r.ok, false, `${JSON.stringify(input)} rejected`);
  if (!r.ok) {
    tt.type(r.reason, 'string');
    tt.ok(r.reason.length > 0, 'has a reason');
    if (typeof reason === 'string') tt.equal(r.reason, reason, `reason for ${JSON.stringify(input)}`);
    else if (reason) tt.match(r.reason, reason, `reason for ${JSON.stringify(input)}`);
  }
}

/** The type of a subtest's `t`. */
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('start and length', async (tt) => {
  expectFail(tt, '', 'path must start with /');
  expectFail(tt, 'admin', 'path must start with /');
  expectFail(tt, '*', 'path must start with /');
  expectOk(tt, '/', '/');

  const long = '/' + 'a'.repeat(8192);
  expectFail(tt, long, /longer than 8192/);
  expectOk(tt, '/' + 'a'.repeat(8191), '/' + 'a'.repeat(8191));
  expectFail(tt, '/abcdef', /longer than 5/, { maxLength: 5 });
  expectOk(tt, '/abcd', '/abcd', { maxLength: 5 });
});

t.test('fast path returns input unchanged', async (tt) => {
  for (const p of ['/', '/health', '/a/b/c/', "/a-b_c~d.e/!$&'()*+,=:@", '/a.b/.c/..d', '/x/...']) {
    const input = p.slice(); // same content
    const r = normalizePath(input);
    tt.equal(okPath(r), p);
  }
  // Same string object when nothing needs to change.
  const s = '/api/v1/users';
  const r = normalizePath(s);
  tt.ok(r.ok && Object.is(r.path, s));
});

t.test('encoded slash / backslash', async (tt) => {
  expectFail(tt, '/public/..%2Fadmin', 'encoded slash in path');
  expectFail(tt, '/a%2fb', 'encoded slash in path');
  expectFail(tt, '/a%5cb', 'encoded backslash in path');
  expectFail(tt, '/a%5Cb', 'encoded backslash in path');
  expectOk(tt, '/a%2fb', '/a%2Fb', { allowEncodedSlash: true });
  expectOk(tt, '/a%5cb', '/a%5Cb', { allowEncodedSlash: true });
  // Encoded slash is not a separator: '..%2Fadmin' is a single (non-dot) segment.
  expectOk(tt, '/public/..%2Fadmin', '/public/..%2Fadmin', { allowEncodedSlash: true });
});

t.test('dot segments', async (tt) => {
  expectFail(tt, '/%2e%2e/admin', 'path escapes root');
  expectFail(tt, '/..', 'path escapes root');
  expectFail(tt, '/../a', 'path escapes root');
  expectFail(tt, '/a/../..', 'path escapes root');
  expectFail(tt, '/a/../../b', 'path escapes root');
  expectFail(tt, '/.%2E', 'path escapes root');
  expectFail(tt, '/%2E.', 'path escapes root');
  expectOk(tt, '/a/%2e%2e/admin', '/admin');
  expectOk(tt, '/a/%2E%2e/admin', '/admin');
  expectOk(tt, '/a/%2e/b', '/a/b');
  expectOk(tt, '/a/./b/../c/', '/a/c/');
  expectOk(tt, '/a/b/..', '/a/');
  expectOk(tt, '/a/b/.', '/a/b/');
  expectOk(tt, '/a/..', '/');
  expectOk(tt, '/.', '/');
  expectOk(tt, '/./', '/');
  expectOk(tt, '/a/.b/c..', '/a/.b/c..');
  expectOk(tt, '/a/.../b', '/a/.../b');
  expectOk(tt, '/a/%2e%2e%2e', '/a/...');
});

t.test('slash collapsing', async (tt) => {
  expectOk(tt, '//admin', '/admin');
  expectOk(tt, '///a////b//', '/a/b/');
  expectOk(tt, '//', '/');
  expectOk(tt, '/a//..', '/');
  expectOk(tt, '/a/.//b', '/a/b');
});

t.test('semicolon', async (tt) => {
  expectFail(tt, '/admin;x', 'semicolon in path');
  expectFail(tt, '/a;b/c');
  expectOk(tt, '/admin;x', '/admin;x', { allowSemicolon: true });
  // Encoded semicolon is not a path-parameter delimiter; it stays encoded.
  expectOk(tt, '/admin%3bx', '/admin%3Bx');
});

t.test('percent-decoding', async (tt) => {
  expectOk(tt, '/%7euser', '/~user');
  expectOk(tt, '/%41%62%63', '/Abc');
  expectOk(tt, '/%2D%2e%5f%7E', '/-._~');
  expectOk(tt, '/a%3ab', '/a%3Ab');
  expectOk(tt, '/a%20b', '/a%20b');
  expectOk(tt, '/%e2%82%ac', '/%E2%82%AC');
  expectOk(tt, '/%25', '/%25');
  // Decode once only.
  expectOk(tt, '/%252e', '/%252e');
  expectOk(tt, '/%252E%252e/x', '/%252E%252e/x');
  expectOk(tt, '/a/%252e%252e/b', '/a/%252e%252e/b');
  expectFail(tt, '/%', 'invalid percent-encoding in path');
  expectFail(tt, '/%2', 'invalid percent-encoding in path');
  expectFail(tt, '/%zz', 'invalid percent-encoding in path');
  expectFail(tt, '/%g0', 'invalid percent-encoding in path');
  expectFail(tt, '/a%', 'invalid percent-encoding in path');
  expectFail(tt, '/%%41', 'invalid percent-encoding in path');
  expectFail(tt, '/admin%00', 'encoded control character in path');
  expectFail(tt, '/a%0d%0ab', 'encoded control character in path');
  expectFail(tt, '/a%1F', 'encoded control character in path');
  expectFail(tt, '/a%7f', 'encoded control character in path');
});

t.test('raw characters', async (tt) => {
  expectFail(tt, '/a\\b', 'backslash in path');
  expectFail(tt, '/a b', 'space in path');
  expectFail(tt, '/a\u0000b', 'control character in path');
  expectFail(tt, '/a\tb', 'control character in path');
  expectFail(tt, '/a\u007fb', 'control character in path');
  expectFail(tt, '/a\ufffd', 'non-ASCII character in path');
  expectFail(tt, '/caf\u00e9', 'non-ASCII character in path');
  expectFail(tt, '/\u0080', 'non-ASCII character in path');
  expectFail(tt, '/\ud83d\ude00', 'non-ASCII character in path');
  for (const c of ['"', '<', '>', '^', '`', '{', '|', '}', '[', ']', '#', '?']) {
    expectFail(tt, `/a${c}b`, /disallowed character/);
  }
  // Raw checks also apply on the slow path.
  expectFail(tt, '//a b', 'space in path');
  expectFail(tt, '/%41\\', 'backslash in path');
  // All pchars are accepted.
  expectOk(tt, "/AZaz09-._~!$&'()*+,=:@", "/AZaz09-._~!$&'()*+,=:@");
});

// ---------------------------------------------------------------------------
// Property test

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const UNRESERVED_RE = /^[A-Za-z0-9\-._~]$/;

/** What an upstream that percent-decodes exactly once would see. */
function decodeOnce(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '%') {
      out += String.fromCharCode(parseInt(p.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += p[i];
  }
  return out;
}

function checkInvariants(tt: Tap, input: string, out: string, allowEncodedSlash: boolean): boolean {
  const problems: string[] = [];
  if (!out.startsWith('/')) problems.push('does not start with /');
  if (out.includes('//')) problems.push('contains //');
  if (out.includes('/./')) problems.push('contains /./');
  if (out.includes('/../')) problems.push('contains /../');
  if (out.endsWith('/.') || out.endsWith('/..')) problems.push('ends with dot segment');
  if (!allowEncodedSlash && (out.includes('%2F') || out.includes('%2f'))) problems.push('contains %2F');
  if (!allowEncodedSlash && (out.includes('%5C') || out.includes('%5c'))) problems.push('contains %5C');
  if (out.length > input.length) problems.push('longer than input');
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== '%') continue;
    const hex = out.slice(i + 1, i + 3);
    if (!/^[0-9A-F]{2}$/.test(hex)) problems.push(`bad escape %${hex}`);
    else if (UNRESERVED_RE.test(String.fromCharCode(parseInt(hex, 16)))) {
      problems.push(`undecoded unreserved %${hex}`);
    }
    i += 2;
  }
  // The upstream's single decode must not reveal new separators or dot
  // segments. (With allowEncodedSlash it can, by design: that option is only
  // for upstreams that do not decode %2F.)
  if (!allowEncodedSlash) {
    const segs = decodeOnce(out).split('/').slice(1);
    if (segs.length !== out.split('/').length - 1) problems.push('upstream sees different segment count');
    for (const s of segs.slice(0, -1)) {
      if (s === '' || s === '.' || s === '..') problems.push('upstream sees dot/empty segment');
    }
    const last = segs[segs.length - 1];
    if (last === '.' || last === '..') problems.push('upstream sees trailing dot segment');
  }

  const again = normalizePath(out, { allowSemicolon: true, allowEncodedSlash });
  if (!again.ok) problems.push(`re-normalization failed: ${again.reason}`);
  else if (again.path !== out) problems.push(`not idempotent: ${JSON.stringify(again.path)}`);

  if (problems.length > 0) {
    tt.fail(`${JSON.stringify(input)} -> ${JSON.stringify(out)}: ${problems.join('; ')}`);
    return false;
  }
  return true;
}

t.test('property: random paths', async (tt) => {
  const alphabet = ['/', '/', '/', '.', '.', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', 'C', 'a', ';', '7', '0'];
  const rand = mulberry32(0x5eed1234);
  const iterations = 50_000;
  let okCount = 0;
  let failures = 0;
  let reasonsMissing = 0;
  for (let n = 0; n < iterations; n++) {
    const len = Math.floor(rand() * 24);
    let s = '/';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    for (const allowEncodedSlash of [false, true]) {
      const opts = { allowSemicolon: rand() < 0.5, allowEncodedSlash };
      const r = normalizePath(s, opts);
      if (r.ok) {
        okCount++;
        if (!checkInvariants(tt, s, r.path, allowEncodedSlash)) failures++;
      } else if (typeof r.reason !== 'string' || r.reason.length === 0) {
        reasonsMissing++;
      }
      if (failures > 10) break;
    }
    if (failures > 10) break;
  }
  tt.equal(failures, 0, 'all invariants hold');
  tt.equal(reasonsMissing, 0, 'every rejection has a reason');
  tt.ok(okCount > iterations / 10, `enough accepted samples (${okCount})`);
});

t.test('property: idempotent on accepted paths with mixed characters', async (tt) => {
  const alphabet = ['/', '.', '%', '2', '5', 'e', 'F', 'a', 'b', '~', ':', '@', '!', '3', 'A', '4', '1'];
  const rand = mulberry32(42);
  let failures = 0;
  for (let n = 0; n < 20_000 && failures <= 10; n++) {
    const len = Math.floor(rand() * 30);
    let s = '/';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    const r = normalizePath(s);
    if (r.ok && !checkInvariants(tt, s, r.path, false)) failures++;
  }
  tt.equal(failures, 0);
});

t.test('long inputs are handled in linear time', async (tt) => {
  const n = 8000;
  const inputs = [
    '/' + 'a/'.repeat(n / 2 - 1),
    '/' + './'.repeat(n / 2 - 1),
    '/' + 'a/../'.repeat(Math.floor((n - 1) / 5)),
    '/' + '%41'.repeat(Math.floor((n - 1) / 3)),
    '/' + '/'.repeat(n - 1),
  ];
  const start = process.hrtime.bigint();
  for (let k = 0; k < 20; k++) for (const p of inputs) normalizePath(p);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  tt.ok(ms < 2000, `took ${ms.toFixed(1)} ms`);
  tt.same(normalizePath(inputs[2]!), { ok: true, path: '/' });
  tt.same(normalizePath(inputs[4]!), { ok: true, path: '/' });
});
