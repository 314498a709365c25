import t from 'tap';
import { detectPii, isValidCard, isValidSsn, isValidIban, luhn } from '../../src/protect/detect.js';

const found = (text: string, entity: string): string[] =>
  detectPii(text)
    .filter((s) => s.entity === entity)
    .map((s) => text.slice(s.start, s.end));

t.test('CREDIT_CARD', async (t) => {
  for (const v of [
    '4111111111111111',
    '4111 1111 1111 1111',
    '4111-1111-1111-1111',
    '5555555555554444',
    '2221000000000009',
    '371449635398431',
    '3714 496353 98431',
    '6011000990139424',
    '30569309025904',
    '3530111333300000',
    '6200000000000005',
  ]) {
    t.same(found(`card: ${v}.`, 'CREDIT_CARD'), [v], v);
  }
  t.ok(luhn('4111111111111111'));
  t.notOk(isValidCard('4111111111111112'), 'Luhn-invalid');
  t.same(found('4012-8888-8888-1882', 'CREDIT_CARD'), [], 'Luhn-invalid with separators');
  t.same(found('9111111111111111', 'CREDIT_CARD'), [], 'unknown issuer');
  t.same(found('4111 1111-1111 1111', 'CREDIT_CARD'), [], 'inconsistent separators');
  t.same(found('411 11111 1111 1111', 'CREDIT_CARD'), [], 'wrong grouping');
  t.same(found('x4111111111111111', 'CREDIT_CARD'), [], 'glued to a word');
  t.same(found('1234 4111 1111 1111 1111 1234', 'CREDIT_CARD'), [], 'inside a longer grouped number');
  t.same(found('0000000000000000', 'CREDIT_CARD'), []);
});

t.test('US_SSN', async (t) => {
  for (const v of ['536-22-1234', '536 22 1234', '536.22.1234', '536221234', '078-05-1123']) {
    t.same(found(`SSN ${v}`, 'US_SSN'), [v], v);
  }
  for (const v of ['000-12-3456', '666-12-3456', '912-34-5678', '536-00-1234', '536-22-0000', '078-05-1120', '536-22.1234', '5362212345', '111-11-1111']) {
    t.same(found(`SSN ${v}`, 'US_SSN'), [], v);
  }
  t.same(found('ligue (11) 98765-4321', 'US_SSN'), [], 'a dashed 5-4 run after an area code is a phone number');
  t.same(found('SSN 53622-1234', 'US_SSN'), ['53622-1234']);
  t.notOk(isValidSsn('900123456'));
  t.ok(isValidSsn('536221234'));
});

t.test('EMAIL_ADDRESS', async (t) => {
  for (const v of ['info@presidio.site', 'john.doe+tag@mail.example.co.uk', 'a@xn--d1acufc.xn--p1ai', "o'brien@example.ie"]) {
    t.same(found(`mail <${v}>.`, 'EMAIL_ADDRESS'), [v], v);
  }
  for (const v of ['info@presidio.', 'hello-world here', 'a@b', '@example.com', 'x@-a.com', 'user@host.c0m', 'a.@b.com']) {
    t.same(found(v, 'EMAIL_ADDRESS'), [], v);
  }
  t.same(found('a@b.com,c@d.org', 'EMAIL_ADDRESS'), ['a@b.com', 'c@d.org']);
});

t.test('PHONE_NUMBER', async (t) => {
  for (const v of [
    '(415) 555-0132',
    '415-555-0132',
    '415.555.0132',
    '1-800-555-0199',
    '+1 415 555 0132',
    '+44 (20) 7123 4567',
    '+44 20 7123 4567',
    '+49 30 1234567',
    '+33 1 42 68 53 00',
    '+91 4155550132',
    '020 7123 4567',
    '09-7625400',
    '090-1234-5678',
    '06.12.34.56.78',
  ]) {
    t.same(found(`call ${v} today`, 'PHONE_NUMBER'), [v], v);
  }
  t.same(found('My CN number is 13812345678', 'PHONE_NUMBER'), ['13812345678'], 'bare run with a keyword');
  t.same(found('my number is415-555-0132', 'PHONE_NUMBER'), ['415-555-0132'], 'missing space after a word');
  t.same(found('call 415-555-0132 2 times', 'PHONE_NUMBER'), ['415-555-0132'], 'a trailing number is not absorbed');
  for (const v of [
    'on 2024-01-15 at 10:30',
    'on 01/15/2024',
    'dated 15.01.2024 10',
    'date 01-02-2024',
    'Order #4155550132',
    'order number 4155550132',
    'order ORD-415-555-0132',
    'id 4155550132',
    'ip 192.168.100.200',
    'amount 1234567890',
    '+999 123 456 789',
    'SSN 536-22-1234',
    '4111 1111 1111 1111',
    '91-415-555-0132',
    'ts 1700000000000',
    'v1.2.3.4',
    '(415) 155-0132',
    'NL91 1BNA 0417 1643 01', // an IBAN (bad checksum): its groups are no phone either
    'MT84 MALT 0110 0001 2345 MTLC AST0 01T',
  ]) {
    t.same(found(v, 'PHONE_NUMBER'), [], v);
  }
});

t.test('IBAN_CODE', async (t) => {
  for (const v of ['DE89370400440532013000', 'DE89 3704 0044 0532 0130 00', 'GB29 NWBK 6016 1331 9268 19', 'AL47-2121-1009-0000-0002-3569-8741', 'NO9386011117947']) {
    t.same(found(`IBAN: ${v}, thanks`, 'IBAN_CODE'), [v], v);
  }
  for (const v of [
    'DE89370400440532013001', // bad checksum
    'DE89 3704 0044 0532 0130 01',
    'DE8937040044053201300', // short
    'DE89 3704 0044 0532 0130 000', // long
    'XX89370400440532013000', // unknown country
    'GB29 nwbk 6016 1331 9268 19', // lower case
    'DE89 3704  0044 0532 0130 00', // double space
    'AL47/2121/1009/0000/0002/3569/8741',
  ]) {
    t.same(found(v, 'IBAN_CODE'), [], v);
  }
  t.ok(isValidIban('GB29NWBK60161331926819'));
  t.notOk(isValidIban('GB29NWBK60161331926818'));
});

t.test('overlaps: one entity per value, the longest or most specific', async (t) => {
  const text = 'IBAN DE89 3704 0044 0532 0130 00 card 4111-1111-1111-1111 ssn 536-22-1234 tel 415-555-0132 mail a@b.io';
  const spans = detectPii(text);
  t.same(
    spans.map((s) => [s.entity, text.slice(s.start, s.end)]),
    [
      ['IBAN_CODE', 'DE89 3704 0044 0532 0130 00'],
      ['CREDIT_CARD', '4111-1111-1111-1111'],
      ['US_SSN', '536-22-1234'],
      ['PHONE_NUMBER', '415-555-0132'],
      ['EMAIL_ADDRESS', 'a@b.io'],
    ],
  );
  for (let i = 1; i < spans.length; i++) t.ok(spans[i]!.start >= spans[i - 1]!.end);
  t.same(detectPii(text, ['US_SSN']).map((s) => s.entity), ['US_SSN'], 'entity filter');
  t.throws(() => detectPii(text, ['NOPE']));
});

// detectPii stops at a built-in span over the whole value: that must not change which span wins.
t.test('a span over the whole value: the same winner whatever the order of the entity list', async (t) => {
  const whole = (entity: string, score: number) => (s: string) => [{ entity, start: 0, end: s.length, score }];
  const extra = { LOW: whole('LOW', 0.3), HIGH: whole('HIGH', 0.9) };
  const card = '4111 1111 1111 1111';
  t.same(detectPii(card, ['LOW', 'HIGH'], { extra }).map((s) => s.entity), ['HIGH'], 'between configured detectors, the higher score');
  t.same(detectPii(card, ['LOW', 'HIGH', 'CREDIT_CARD'], { extra }).map((s) => s.entity), ['CREDIT_CARD'], 'a built-in outranks them, listed last');
  t.same(detectPii(card, ['PHONE_NUMBER', 'US_SSN', 'CREDIT_CARD', 'IBAN_CODE']).map((s) => s.entity), ['CREDIT_CARD'], 'built-ins listed out of rank order');
});

// The scanners skip ahead over text that cannot hold their entity and read digits in
// place: a value must be found wherever it sits, and the checks done on the text must
// agree with the ones documented on the digit strings.
t.test('a value is found at every offset in prose (skip-ahead alignment)', async (t) => {
  const values: Record<string, string> = {
    IBAN_CODE: 'GB29 NWBK 6016 1331 9268 19',
    CREDIT_CARD: '4111 1111 1111 1111',
    US_SSN: '536-22-1234',
    PHONE_NUMBER: '(415) 555-0132',
    EMAIL_ADDRESS: 'a@b.io',
  };
  for (const [entity, v] of Object.entries(values)) {
    for (let pad = 0; pad <= 20; pad++) {
      const text = 'x'.repeat(pad) + ' ' + v + ' ' + 'y'.repeat(20 - pad);
      t.same(found(text, entity), [v], `${entity} after ${pad} letters`);
    }
  }
});

t.test('checks made on the text in place', async (t) => {
  t.same(found('card 44444444444444444.', 'CREDIT_CARD'), [], 'all one digit, though Luhn-valid with a Visa prefix');
  t.same(found('card 4444 4444 4444 4444 4.', 'CREDIT_CARD'), [], 'the same, grouped');
  t.same(found('card 4111111111111111 1234', 'CREDIT_CARD'), ['4111111111111111'], 'a bare run followed by another group');
  t.same(found('mail A@XN--D1ACUFC.XN--P1AI.', 'EMAIL_ADDRESS'), ['A@XN--D1ACUFC.XN--P1AI'], 'an upper-case IDNA TLD');
  const score = (text: string): number | undefined => detectPii(text).find((s) => s.entity === 'US_SSN')?.score;
  t.equal(score('SSN: 536221234'), 0.6, 'a bare SSN with its keyword');
  t.equal(score('id 536221234'), undefined, 'a bare SSN without context, in a sentence');
  t.equal(score('536221234'), 0.3, 'a bare SSN alone');
});

t.test('keywords are matched as lower-casing finds them, beyond ASCII too', async (t) => {
  t.same(found('call 4155550132', 'PHONE_NUMBER'), ['4155550132']);
  t.same(found('call tracking 4155550132', 'PHONE_NUMBER'), [], 'a negative keyword');
  // U+212A KELVIN SIGN lower-cases to 'k': still 'tracking'
  t.same(found('call trac\u212aing 4155550132', 'PHONE_NUMBER'), [], 'a negative keyword with a Kelvin sign');
  // 'İ' lower-cases to 'i' and a combining dot: 'telİ' is no whole word 'tel'
  t.same(found('telİ 4155550132', 'PHONE_NUMBER'), [], 'a keyword glued to a dotted capital I');
  t.same(found('tel İ 4155550132', 'PHONE_NUMBER'), ['4155550132'], 'a keyword before a dotted capital I');
});

t.test('cards of every common issuer and length', async (t) => {
  for (const v of [
    '213100000000001', // JCB, 15 digits
    '180000000000002', // JCB, 15 digits
    '3528000000000007',
    '6304 0000 0000', // 12-digit Maestro, 4-4-4
    '501800000009',
    '4000000000000000006', // Visa, 19 digits
    '4000 0000 0000 0000 006',
    '8100000000000002', // UnionPay 81
  ]) {
    t.same(found(`card ${v}.`, 'CREDIT_CARD'), [v], v);
  }
  t.same(found('card 6304 0000 0001.', 'CREDIT_CARD'), [], 'Luhn-invalid 4-4-4');
  t.same(found('card 4000 0000 0002.', 'CREDIT_CARD'), [], 'a Luhn-valid 4-4-4 number of an issuer without 12-digit cards');
});

t.test('IBANs in either case, with or without spaces', async (t) => {
  for (const v of ['de89370400440532013000', 'de89 3704 0044 0532 0130 00', 'gb29nwbk60161331926819', 'gb29-nwbk-6016-1331-9268-19']) {
    t.same(found(`IBAN ${v}.`, 'IBAN_CODE'), [v], v);
  }
  t.same(found('de89 3704 0044 0532 0130 01', 'IBAN_CODE'), [], 'mod-97 still checked');
  t.same(found('gb29 nwBK 6016 1331 9268 19', 'IBAN_CODE'), [], 'mixed case inside');
});
