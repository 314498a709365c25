import t from 'tap';
import { validateConfig } from '../../src/config/load.js';
import { compileCustom, keywordDetector, patternDetector, patternProblem } from '../../src/protect/custom.js';
import { detectJson } from '../../src/protect/detect.js';
import { applyToForm, detectForm } from '../../src/protect/form.js';
import { applyToJson } from '../../src/protect/mask.js';
import { scanBody } from '../../src/protect/scan.js';
import { measureGrowth, describeGrowth } from '../helpers/growth.js';

const cfg = (stage: Record<string, unknown>) => ({
  listeners: [{ name: 'l', port: 1 }],
  upstreams: [{ name: 'u', targets: [{ url: 'http://127.0.0.1:2' }] }],
  routes: [{ name: 'r', match: { path: '/*' }, upstream: 'u', public: true, stages: [{ type: 'protect', ...stage }] }],
});
const issues = (stage: Record<string, unknown>): string[] => {
  try {
    validateConfig(cfg(stage), '/');
    return [];
  } catch (err) {
    return (err as { issues?: string[] }).issues ?? [String(err)];
  }
};

t.test('patterns that could backtrack, or are unbounded, are refused with the reason', async (t) => {
  const bad: Record<string, RegExp> = {
    '(a+)+$': /nested quantifier/,
    '(a)\\1': /backreference/,
    '[0-9]+x': /unbounded repeat '\+'/,
    'a.*b': /unbounded repeat '\*'/,
    'x{3,}': /unbounded repeat/,
    'x{1,500}': /repeat over 64/,
    '(a|ab){1,20}c': /repeated alternation/,
    '(a|b)?c': /repeated alternation/,
    'a?b?c?d?e?': /more than 4 variable repeats/,
    'x?': /empty string/,
    '([a-z': /not a valid regular expression/,
    ['a'.repeat(300)]: /1 to 256 characters/,
  };
  for (const [p, why] of Object.entries(bad)) t.match(patternProblem(p), why, `refused: ${p.slice(0, 40)}`);
  for (const ok of ['EMP-[0-9]{6}', 'ACME-[A-Z]{2}[0-9]{4,8}', '(?:foo|bar)-[0-9]{3}', '\\b[A-Z]{3}[0-9]{6}\\b', 'sk_live_[A-Za-z0-9]{24}']) {
    t.equal(patternProblem(ok), null, `allowed: ${ok}`);
  }
});

t.test('config errors name the field: path: reason', async (t) => {
  t.match(issues({ detectors: [{ name: 'EMP', pattern: '(a+)+' }] }), [/^routes\[0\]\.stages\[0\]\.detectors\[0\]\.pattern: nested quantifier/]);
  t.match(issues({ detectors: [{ name: 'EMP', pattern: 'EMP-[0-9]{6}', keywords: ['x'] }] }), [/detectors\[0\]: exactly one of pattern, keywords or fields/]);
  t.match(issues({ detectors: [{ name: 'CREDIT_CARD', keywords: ['x'] }] }), [/detectors\[0\]\.name: CREDIT_CARD is a built-in detector/]);
  t.match(issues({ detectors: [{ name: 'A', fields: ['$.a..b'] }] }), [/detectors\[0\]\.fields\[0\]: not a supported path/]);
  t.match(issues({ detectors: [{ name: 'A', fields: ['x'] }, { name: 'A', fields: ['y'] }] }), [/detectors\[1\]\.name: A is defined twice/]);
  t.match(issues({ actions: { NOPE: 'redact' } }), [/actions\.NOPE: not a detector of this stage/]);
  t.match(issues({ actions: { US_SSN: 'hash' } }), [/actions\.US_SSN: the hash action needs hashKey/]);
  t.match(issues({ actions: { US_SSN: { encrypt: 'bank' } } }), [/actions\.US_SSN: unknown recipient "bank"/]);
  t.ok(issues({ detectors: [{ name: 'lower', keywords: ['x'] }] }).length > 0, 'entity names are upper case');
  t.ok(issues({ detectors: [{ name: 'K', keywords: ['two words'] }] }).length > 0, 'keywords are single words');
  t.same(issues({ detectors: [{ name: 'EMP', pattern: 'EMP-[0-9]{6}' }, { name: 'SECRET', fields: ['password', '$.customer.ssn', '$.items[*].card'] }], actions: { EMP: 'redact', SECRET: 'redact' } }), []);
});

t.test('pattern and keyword detectors', async (t) => {
  const emp = patternDetector('EMP', 'EMP-[0-9]{6}');
  t.same(emp('id EMP-123456 and EMP-12345 and EMP-654321.').map((s) => s.start), [3, 32]);
  const kw = keywordDetector('CODE', ['Swordfish', 'rosebud']);
  t.same(kw('the SWORDFISH, then rosebuds and rosebud').map((s) => [s.start, s.end]), [[4, 13], [33, 40]], 'whole words, any case');
});

t.test('JSON fields by name and path, with [*]', async (t) => {
  const c = compileCustom([{ name: 'SECRET', fields: ['password', '$.customer.dob', '$.items[*].card'] }]);
  const doc = JSON.stringify({ password: 'hunter2', customer: { dob: '1990-01-02', name: 'x' }, items: [{ card: 'abc' }, { card: 42 }], other: { dob: 'kept' } });
  const spans = detectJson(doc, [], { fields: c.fields });
  t.same(spans.map((s) => s.path), ['$.password', '$.customer.dob', '$.items[0].card', '$.items[1].card']);
  const out = JSON.parse(applyToJson(doc, spans, () => '[x]'));
  t.same(out, { password: '[x]', customer: { dob: '[x]', name: 'x' }, items: [{ card: '[x]' }, { card: '[x]' }], other: { dob: 'kept' } });
});

t.test('form bodies are decoded before scanning and encoded after', async (t) => {
  const body = 'name=Ada&card=4111+1111+1111+1111&mail=ada%40example.com&password=s3cret&bad=%E0%A4%A';
  const c = compileCustom([{ name: 'SECRET', fields: ['password'] }]);
  const spans = detectForm(body, ['CREDIT_CARD', 'EMAIL_ADDRESS'], { fields: c.fields });
  t.same(spans.map((s) => `${s.entity}@${s.path}`), ['CREDIT_CARD@card', 'EMAIL_ADDRESS@mail', 'SECRET@password']);
  const out = applyToForm(body, spans, (v) => 'X'.repeat(v.length));
  t.equal(out, `name=Ada&card=${encodeURIComponent('X'.repeat(19))}&mail=${'X'.repeat(15)}&password=XXXXXX&bad=%E0%A4%A`);
});

t.test('scanBody: a JSON body that does not parse is scanned as text', async (t) => {
  const r = scanBody({ text: '{"card": "4111 1111 1111 1111", oops', kind: 'json', entities: ['CREDIT_CARD'], custom: [] });
  t.equal(r.kind, 'text');
  t.equal(r.spans.length, 1);
});

t.test('config-defined detectors are linear in the input', async (t) => {
  const emp = patternDetector('EMP', 'EMP-[0-9]{1,8}X');
  const kw = keywordDetector('K', ['alpha', 'beta']);
  const gens: Record<string, [(s: string) => unknown, (n: number) => string]> = {
    patternNearMiss: [emp, (n) => 'EMP-1234567'.repeat(n / 11)],
    patternDigits: [emp, (n) => '1'.repeat(n)],
    keywordRun: [kw, (n) => 'a'.repeat(n)],
    keywordWords: [kw, (n) => 'alph '.repeat(n / 5)],
  };
  for (const [name, [det, gen]] of Object.entries(gens)) {
    const a = gen(16_000);
    const b = gen(128_000);
    const g = measureGrowth(() => det(a), () => det(b));
    t.ok(g.linear, describeGrowth(name, g));
  }
});
