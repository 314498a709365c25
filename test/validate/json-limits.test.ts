import t from 'tap';
import { measureGrowth, describeGrowth } from '../helpers/growth.js';
import { checkJsonLimits, JsonLimitScanner, type JsonCheck, type JsonLimits } from '../../src/validate/json-limits.js';

const NO_LIMITS: JsonLimits = { maxDepth: 1e9, maxKeys: 1e9, maxArrayLength: 1e9, maxStringLength: 1e9 };
const check = (s: string, limits: Partial<JsonLimits> = {}) => checkJsonLimits(Buffer.from(s), limits);
const failed = (r: JsonCheck) => (r.ok ? { kind: 'ok' } : r);

t.test('accepts what JSON.parse accepts', async (t) => {
  for (const s of ['0', '-0', '1.5e-3', '-12E+4', 'true', 'false', 'null', '"x"', '""', '[]', '{}', ' [ 1 , "a" , { "k" : [ ] } ] ', '{"a":{"b":[true,false,null]}}', '"\\u00e9\\n\\"\\\\\\/"', '"é😀"', '\n\t\r 7 ']) {
    t.ok(check(s).ok, s);
    t.doesNotThrow(() => JSON.parse(s));
  }
});

t.test('malformed input is a syntax failure with an offset, never a quote of the input', async (t) => {
  const bad = ['', '   ', '{', '[1,]', '{"a":1,}', '{"a" 1}', '{a:1}', "{'a':1}", '01', '1.', '.5', '-', '1e', '1e+', '+1', 'tru', 'nul', 'True', '"abc', '"\\x"', '"\\u12g4"', '"a\u0001b"', '[1 2]', '{"a":1}}', '[1]]', '1 2', '{"a":1} x', '[}', '{]', '\ufeff{}', 'NaN', 'Infinity', '[1,,2]', ',', ':'];
  for (const s of bad) {
    const r = check(s);
    t.equal(failed(r).kind, 'syntax', JSON.stringify(s));
    t.throws(() => JSON.parse(s), JSON.stringify(s));
  }
  const r = check('{"secret-password": 1,, }');
  t.equal(failed(r).kind, 'syntax');
  if (!r.ok) {
    t.equal(r.offset, 22);
    t.notMatch(r.reason, /secret/);
  }
});

t.test('nesting: the top level is depth 1; 10k levels are refused at the limit without recursion', async (t) => {
  t.ok(check('[[1]]', { maxDepth: 2 }).ok);
  let r = check('[[[1]]]', { maxDepth: 2 });
  t.match(r, { ok: false, kind: 'limit', limit: 'maxDepth', offset: 2, depth: 3 });
  t.ok(check('{"a":{"b":1}}', { maxDepth: 2 }).ok);
  t.match(check('{"a":{"b":{}}}', { maxDepth: 2 }), { limit: 'maxDepth' });

  const deep = '['.repeat(10_000) + ']'.repeat(10_000);
  r = check(deep); // default maxDepth 32
  t.match(r, { ok: false, limit: 'maxDepth', offset: 32 });
  const mixed = '{"a":['.repeat(5_000) + ']}'.repeat(5_000);
  t.match(check(mixed), { ok: false, limit: 'maxDepth' });
  // With the limit out of the way the scanner walks all 10k levels (no stack overflow) and accepts.
  t.ok(check(deep, NO_LIMITS).ok, '10k levels scanned iteratively');
  t.ok(check(mixed, NO_LIMITS).ok);
  t.equal(failed(check('['.repeat(10_000), NO_LIMITS)).kind, 'syntax', 'unclosed 10k levels');
  t.ok(check('['.repeat(200_000) + ']'.repeat(200_000), NO_LIMITS).ok, '200k levels too');
});

t.test('keys per object', async (t) => {
  const obj = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
  t.ok(check(obj(1000)).ok, 'default 1000 keys pass');
  const r = check(obj(1001));
  t.match(r, { ok: false, limit: 'maxKeys', depth: 1 });
  t.ok(check(obj(3), { maxKeys: 3 }).ok);
  t.match(check(obj(4), { maxKeys: 3 }), { limit: 'maxKeys' });
  // Per object, not per document.
  t.ok(check(JSON.stringify({ a: { x: 1, y: 2 }, b: { x: 1, y: 2 }, c: 3 }), { maxKeys: 3 }).ok);
  t.match(check(JSON.stringify([{ a: 1 }, { a: 1, b: 2, c: 3, d: 4 }]), { maxKeys: 3 }), { limit: 'maxKeys', depth: 2 });
  t.ok(check(obj(100_000), NO_LIMITS).ok, 'wide objects scan');
  t.match(check('{}', { maxKeys: 1 }), { ok: true });
});

t.test('array length', async (t) => {
  const arr = (n: number) => `[${Array.from({ length: n }, () => 0).join(',')}]`;
  t.ok(check(arr(10_000)).ok, 'default 10000 elements pass');
  t.match(check(arr(10_001)), { ok: false, limit: 'maxArrayLength' });
  t.ok(check(arr(2), { maxArrayLength: 2 }).ok);
  t.match(check(arr(3), { maxArrayLength: 2 }), { limit: 'maxArrayLength', offset: 4 });
  t.match(check('[[1,2],[1,2,3]]', { maxArrayLength: 2 }), { limit: 'maxArrayLength', depth: 2 });
  t.ok(check('[]', { maxArrayLength: 1 }).ok);
  t.ok(check(arr(1_000_000), NO_LIMITS).ok, 'long arrays scan');
});

t.test('string length counts characters, escapes as one, keys included', async (t) => {
  t.ok(check(JSON.stringify('a'.repeat(1024 * 1024))).ok, 'default 1 MiB passes');
  const r = check(JSON.stringify('a'.repeat(1024 * 1024 + 1)));
  t.match(r, { ok: false, limit: 'maxStringLength', offset: 0 });
  t.ok(check('"abcd"', { maxStringLength: 4 }).ok);
  t.match(check('"abcde"', { maxStringLength: 4 }), { limit: 'maxStringLength' });
  t.ok(check('"éééé"', { maxStringLength: 4 }).ok, 'multi-byte characters count once');
  t.ok(check('"😀😀"', { maxStringLength: 2 }).ok);
  t.ok(check('"\\n\\u00e9\\"\\\\"', { maxStringLength: 4 }).ok, 'escapes count once');
  t.match(check('"\\n\\u00e9\\"\\\\x"', { maxStringLength: 4 }), { limit: 'maxStringLength' });
  t.match(check('{"abcde":1}', { maxStringLength: 4 }), { limit: 'maxStringLength', offset: 1, depth: 1 });
  t.match(check('[1,"ok","toolong"]', { maxStringLength: 4 }), { limit: 'maxStringLength', offset: 8 });
});

t.test('streaming: the same verdict whatever the chunking; stops at the first problem', async (t) => {
  const docs = ['{"a":[1,-2.5e+3,true,null,"x\\u00e9y"],"b":{"c":"😀"}}', '[1,2,3,4]', '{"a":{"b":{"c":1}}}', '"abcdef"', '[1,}', '12345', '-0.25E-7'];
  const limits = { maxDepth: 2, maxArrayLength: 3, maxStringLength: 5 };
  for (const d of docs) {
    const whole = check(d, limits);
    const bytes = Buffer.from(d);
    for (let size = 1; size <= 4; size++) {
      const s = new JsonLimitScanner(limits);
      for (let i = 0; i < bytes.length; i += size) s.write(bytes.subarray(i, i + size));
      t.same(s.end(), whole, `${d} in chunks of ${size}`);
    }
  }
  const s = new JsonLimitScanner({ maxDepth: 1 });
  t.equal(s.write(Buffer.from('[[')), s.write(Buffer.from('anything')), 'the first failure is kept');
  t.match(s.end(), { limit: 'maxDepth' });
});

// Adversarial shapes of growing size, scanned in full (limits out of the way).
t.test('linear time', async (t) => {
  const gens: Record<string, (n: number) => string> = {
    deepArrays: (n) => '['.repeat(n / 2) + ']'.repeat(n / 2),
    deepObjects: (n) => '{"":'.repeat(n / 5) + '0' + '}'.repeat(n / 5),
    unclosed: (n) => '['.repeat(n),
    wideObject: (n) => '{' + Array.from({ length: n / 8 }, (_, i) => `"${(i % 1000).toString().padStart(3, '0')}":1`).join(',') + '}',
    longArray: (n) => '[' + '0,'.repeat(n / 2 - 1) + '0]',
    nestedArrays: (n) => '[' + '[],'.repeat(n / 3 - 1) + '[]]',
    longString: (n) => '"' + 'a'.repeat(n - 2) + '"',
    escapes: (n) => '"' + '\\u0041'.repeat((n - 2) / 6) + '"',
    backslashes: (n) => '"' + '\\\\'.repeat((n - 2) / 2) + '"',
    multibyte: (n) => '"' + 'é'.repeat((n - 2) / 2) + '"',
    unterminatedString: (n) => '"' + 'a'.repeat(n),
    longNumber: (n) => '1' + '0'.repeat(n - 1),
    whitespace: (n) => ' '.repeat(n - 1) + '0',
    fractions: (n) => '[' + '1.5e+3,'.repeat(n / 7 - 1) + '1]',
  };
  for (const [name, gen] of Object.entries(gens)) {
    const small = Buffer.from(gen(100_000));
    const large = Buffer.from(gen(800_000));
    const g = measureGrowth(() => checkJsonLimits(small, NO_LIMITS), () => checkJsonLimits(large, NO_LIMITS));
    t.ok(g.linear, describeGrowth(name, g));
  }
});
