import t from 'tap';
import { detectJson, detectPii, walkJson, JsonScanError } from '../../src/protect/detect.js';
import { mask, redact, hash, applyToText, applyToJson, HASH_PREFIX } from '../../src/protect/mask.js';

t.test('detectJson: values with their paths and document offsets', async (t) => {
  const doc = JSON.stringify({
    customer: { ssn: '536-22-1234', 'e mail': 'jane@example.com', cards: [4111111111111111, 'note: 5555 5555 5555 4444'] },
    ok: true,
    n: null,
  });
  const spans = detectJson(doc);
  t.same(
    spans.map((s) => [s.entity, s.path, doc.slice(s.start, s.end)]),
    [
      ['US_SSN', '$.customer.ssn', '536-22-1234'],
      ['EMAIL_ADDRESS', "$.customer['e mail']", 'jane@example.com'],
      ['CREDIT_CARD', '$.customer.cards[0]', '4111111111111111'],
      ['CREDIT_CARD', '$.customer.cards[1]', '5555 5555 5555 4444'],
    ],
  );
  const esc = '{"a":"x\\u0040y.com and \\"q\\" 536-22-1234"}';
  const e = detectJson(esc);
  t.same(e.map((s) => esc.slice(s.start, s.end)), ['x\\u0040y.com', '536-22-1234'], 'offsets cover escapes');
  t.same(JSON.parse(applyToJson(esc, e, { action: 'mask' })), { a: '*@*.*om and "q" ***-**-1234' }, 'applyToJson works on decoded values');
  t.same(JSON.parse(applyToJson(doc, spans, { action: 'mask' })), {
    customer: { ssn: '***-**-1234', 'e mail': '****@******e.com', cards: ['************1111', 'note: **** **** **** 4444'] },
    ok: true,
    n: null,
  });
  t.equal(applyToJson(doc, spans, { action: 'allow' }), doc);
});

t.test('walkJson: syntax errors and limits throw JsonScanError', async (t) => {
  for (const bad of ['{"a":', '{"a" 1}', '[1,]', '{"a":1}x', '"\\q"', '{a:1}']) {
    t.throws(() => walkJson(bad, () => {}), JsonScanError, bad);
  }
  const reason = (f: () => void): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof JsonScanError ? e.reason : 'other';
    }
    return undefined;
  };
  t.equal(reason(() => walkJson('['.repeat(100) + ']'.repeat(100), () => {})), 'limit', 'depth');
  t.equal(reason(() => walkJson(JSON.stringify(Array(50).fill(1)), () => {}, { maxValues: 10 })), 'limit', 'values');
  t.equal(reason(() => walkJson('"' + 'x'.repeat(100) + '"', () => {}, { maxBytes: 50 })), 'limit', 'bytes');
  const seen: string[] = [];
  walkJson('{"a":[{"b":"x"},{},[],2],"c":{"d":-1.5e3}}', (v) => seen.push(`${v.path}=${v.value}`));
  t.same(seen, ['$.a[0].b=x', '$.a[3]=2', '$.c.d=-1.5e3']);
});

t.test('mask keeps the shape and the last N', async (t) => {
  t.equal(mask('4111-1111-1111-1111'), '****-****-****-1111');
  t.equal(mask('4111 1111 1111 1111', 6), '**** **** **11 1111');
  t.equal(mask('536-22-1234'), '***-**-1234');
  t.equal(mask('a@b.io'), '*@*.io', 'never more than half');
  t.equal(mask('4111111111111111', 0), '****************');
  t.equal(redact('x'), '');
  t.equal(redact('x', '[REDACTED]'), '[REDACTED]');
});

t.test('hash: HMAC-SHA256, prefixed, stable across formats', async (t) => {
  const a = hash('4111 1111 1111 1111', 'k1', 'CREDIT_CARD');
  t.match(a, new RegExp(`^${HASH_PREFIX}[0-9a-f]{64}$`));
  t.equal(a, hash('4111-1111-1111-1111', 'k1', 'CREDIT_CARD'));
  t.not(a, hash('4111-1111-1111-1111', 'k2', 'CREDIT_CARD'));
  t.equal(hash('Jane@Example.com', 'k', 'EMAIL_ADDRESS'), hash('jane@example.com', 'k', 'EMAIL_ADDRESS'));
});

t.test('applyToText', async (t) => {
  const text = 'card 4111 1111 1111 1111, ssn 536-22-1234.';
  const spans = detectPii(text);
  t.equal(applyToText(text, spans, { action: 'mask' }), 'card **** **** **** 1111, ssn ***-**-1234.');
  t.equal(applyToText(text, spans, { action: 'redact', placeholder: '[x]' }), 'card [x], ssn [x].');
  t.equal(applyToText(text, spans, (_v, s) => `<${s.entity}>`), 'card <CREDIT_CARD>, ssn <US_SSN>.');
  t.equal(applyToText(text, spans.slice().reverse(), { action: 'allow' }), text);
  t.throws(() => applyToText(text, [spans[0]!, spans[0]!], { action: 'redact' }), RangeError);
});

t.test('applyToJson: plain and escaped values, replacements that need escaping, any span order', async (t) => {
  const doc = '{"a":"call 536-22-1234 now","b":"x\\"y 4111 1111 1111 1111","c":5555555555554444,"d":"jane@example.com"}';
  const spans = detectJson(doc);
  t.equal(spans.length, 4);
  const expected = { a: 'call ***-**-1234 now', b: 'x"y **** **** **** 1111', c: '************4444', d: '****@******e.com' };
  t.same(JSON.parse(applyToJson(doc, spans, { action: 'mask' })), expected, 'document order');
  t.same(JSON.parse(applyToJson(doc, spans.slice().reverse(), { action: 'mask' })), expected, 'reversed order: sorted first');
  // An action may return anything: quotes, backslashes and control chars are escaped even in a plain value.
  const odd = applyToJson(doc, spans, () => 'q"\\\n');
  t.same(JSON.parse(odd), { a: 'call q"\\\n now', b: 'x"y q"\\\n', c: 'q"\\\n', d: 'q"\\\n' });
  t.equal(applyToJson(doc, spans, { action: 'allow' }), doc, 'unchanged values keep their bytes (the number stays a number)');
  t.throws(() => applyToJson(doc, [spans[0]!, spans[0]!], { action: 'mask' }), RangeError, 'overlapping spans refused');
});

t.test('mask: runs, separators, short values, keepLast beyond the value', async (t) => {
  t.equal(mask('+1 (415) 555-0134'), '+* (***) ***-0134');
  t.equal(mask('ab', 4), '*b');
  t.equal(mask('', 4), '');
  t.equal(mask('---', 4), '---');
  t.equal(mask('GB82 WEST 1234 5698 7654 32', 4), '**** **** **** **** **54 32');
  t.equal(mask('4111111111111111', 4, '#'), '############1111');
});
