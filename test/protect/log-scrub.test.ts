import t from 'tap';
import { scrubLogArgs, scrubString, scrubValue } from '../../src/protect/log-scrub.js';

t.test('PII in log strings becomes the entity name; nothing else changes', async (t) => {
  t.equal(scrubString('GET /cards/4111111111111111 refused'), 'GET /cards/[CREDIT_CARD] refused');
  t.equal(scrubString('ssn 536-22-8726, mail ada@example.com'), 'ssn [US_SSN], mail [EMAIL_ADDRESS]');
  t.equal(scrubString('connect ECONNREFUSED 127.0.0.1:40153'), 'connect ECONNREFUSED 127.0.0.1:40153');
  const long = 'x'.repeat(5000) + '4111111111111111';
  t.notMatch(scrubString(long), /4111111111111111/, 'a long string is cut at the scanned length, never written unscanned');

  const obj = { reqId: 'abc', reason: 'path /u/4111-1111-1111-1111', nested: { snippet: 'call +1 415 555 0132', list: ['x', 'DE89 3704 0044 0532 0130 00'] }, n: 4111111111111111 };
  const out = scrubValue(obj) as typeof obj;
  t.equal(out.reason, 'path /u/[CREDIT_CARD]');
  t.equal(out.nested.snippet, 'call [PHONE_NUMBER]');
  t.same(out.nested.list, ['x', '[IBAN_CODE]']);
  t.equal(obj.reason, 'path /u/4111-1111-1111-1111', 'the caller’s object is not modified');
  const clean = { reqId: 'a', route: 'r', status: 200 };
  t.equal(scrubValue(clean), clean, 'no copy when nothing changed');

  const err = new Error('bad body: {"card":"4111 1111 1111 1111"}');
  const e = scrubValue({ err }) as { err: { message: string; stack: string } };
  t.notMatch(e.err.message + e.err.stack, /4111 1111/, 'error message and stack');
  t.same(scrubLogArgs([{ a: 1 }, 'refused 536-22-8726']), [{ a: 1 }, 'refused [US_SSN]'], 'the message too');
});

t.test('nothing is written unscanned: deep objects, long arrays and wide objects', async (t) => {
  const deep = { a: { b: { c: { card: '4111 1111 1111 1111' } } } };
  t.notMatch(JSON.stringify(scrubValue(deep)), /4111 1111/, 'an object deeper than two levels becomes scanned JSON text');
  const long = Array.from({ length: 100 }, (_, i) => (i === 99 ? '536-22-8726' : 'x'));
  const l = scrubValue({ list: long }) as { list: string[] };
  t.notMatch(JSON.stringify(l), /536-22-8726/, 'items past the limit are cut, not written');
  t.match(l.list.at(-1), /more cut/);
  const wide: Record<string, string> = {};
  for (let i = 0; i < 100; i++) wide[`k${i}`] = i === 99 ? 'ada@example.com' : 'v';
  t.notMatch(JSON.stringify(scrubValue(wide)), /ada@example/, 'keys past the limit are dropped');
});
