import t from 'tap';
import { detectPii, detectJson, DEFAULT_REGIONS } from '../../src/protect/detect.js';

const phones = (text: string, regions?: string[]): string[] =>
  detectPii(text, ['PHONE_NUMBER'], { phoneRegions: regions }).map((s) => text.slice(s.start, s.end));

t.test('national and international forms of many countries', async (t) => {
  for (const v of [
    '+49 30 12345678',
    '+49-0301-2345678', // a trunk 0 written after the code
    '0041 79 123 45 67',
    '001-415-555-0132',
    '+36 20/123-4567',
    '(+62) 21 5555 1234',
    '+81312345678',
    '030 1234567',
    '06 20 123 4567',
    '0186 75 33 65',
    '08-123 45 67',
    '(0547) 486500',
  ]) {
    t.same(phones(`see ${v} please`), [v], v);
  }
});

t.test('extensions are part of the number', async (t) => {
  for (const v of ['415-555-0132 x4587', '(415) 555-0132 ext. 12', '+44 20 7123 4567 #221', '415.555.0132x123']) {
    t.same(phones(`Phone ${v}.`), [v], v);
  }
  t.same(phones('call 415-555-0132 x'), ['415-555-0132'], 'an x without digits is no extension');
  t.same(phones('call 415-555-0132 x1234567'), ['415-555-0132'], 'nor are seven digits');
});

t.test('weak shapes need context: a phone word before them or a phone key', async (t) => {
  t.same(phones('Telefon: 94 764 97 62'), ['94 764 97 62']);
  t.same(phones('Teléfono 655158467'), ['655158467']);
  t.same(phones('Tel. 0658-83 52'), ['0658-83 52'], 'eight digits after a trunk 0');
  t.same(phones('Rua Meire 366, 06348-961 São Paulo'), [], 'which without context may be a postal code');
  t.same(phones('PO-2272-2054 +420601950750'), ['+420601950750'], 'a + starts a number after another one');
  t.same(phones('+302383581957 2200 4915 8320 9957'), ['+302383581957'], 'a number followed by a long one');
  t.same(phones('shipped 94 764 97 62 units'), [], 'no phone word');
  t.same(phones('Phone: 0612345678, order 655158467'), ['0612345678'], 'a word belongs to the number after it, not the next one');
  t.same(phones('order 655158467'), [], 'a negative word');
  const doc = '{"mobile": "655158467", "orderId": "655158467", "qty": "655158467"}';
  const found = detectJson(doc, ['PHONE_NUMBER']).map((s) => s.path);
  t.same(found, ['$.mobile'], 'the JSON key is context');
  const keys = detectJson('{"tel_provider": "655158467", "phoneId": "655158467", "phone_id": "655158467"}', ['PHONE_NUMBER']).map((s) => s.path);
  t.same(keys, ['$.tel_provider'], 'an id key is no phone key; a key merely holding the letters i, d is');
});

t.test('decoys that are not phone numbers', async (t) => {
  for (const v of [
    '48.856614, 2.352222',
    '-33.8688 151.2093',
    '2024-05-01',
    '01.02.2024',
    '12/31/2023',
    '2024-05-01T10:22:33Z',
    'v2.14.3',
    '10.0.19045.3803',
    '192.168.10.20',
    '$12,345.67',
    '€1.299,00',
    '978-3-16-148410-0',
    '1Z999AA10123456784',
    '8821 4521 Maple Ave',
    'ORD-2024-118273',
    '1717236153',
  ]) {
    t.same(phones(`Total ${v} done`), [], v);
  }
});

t.test('default regions can be narrowed; international numbers always count', async (t) => {
  t.ok(DEFAULT_REGIONS.includes('DE') && DEFAULT_REGIONS.includes('US'));
  t.same(phones('Ruf an: 030 1234567', ['US']), [], 'a German national number is not a US one');
  t.same(phones('Ruf an: 030 1234567', ['DE']), ['030 1234567']);
  t.same(phones('call +49 30 1234567', ['US']), ['+49 30 1234567']);
  t.same(phones('see (415) 555-0132', ['DE']), [], 'NANP shapes only with a NANP region');
  t.same(phones('see (415) 555-0132', ['US']), ['(415) 555-0132']);
  t.throws(() => detectPii('x 030 1234567', ['PHONE_NUMBER'], { phoneRegions: ['XX'] }), /unknown phone region/);
});
