import t from 'tap';
import { detectPii, detectJson, ENTITIES, OPTIONAL_ENTITIES, nhsChecksumOk, isValidNino, isValidItin } from '../../src/protect/detect.js';

const found = (text: string, entity: string): string[] =>
  detectPii(text, [...ENTITIES, entity])
    .filter((s) => s.entity === entity)
    .map((s) => text.slice(s.start, s.end));

t.test('optional entities are off unless listed', async (t) => {
  const text = 'NHS 943 476 5919, NI AB123456C, ITIN 912-70-1234, host 192.168.10.20';
  const entities = new Set(detectPii(text).map((s) => s.entity));
  for (const e of OPTIONAL_ENTITIES) t.notOk(entities.has(e), `${e} not detected by default`);
  t.same(found(text, 'UK_NHS'), ['943 476 5919']);
});

t.test('UK NHS number: mod 11', async (t) => {
  t.ok(nhsChecksumOk('9434765919'));
  t.notOk(nhsChecksumOk('9434765918'), 'wrong check digit');
  t.notOk(nhsChecksumOk('1111111111'), 'all one digit');
  t.same(found('NHS number 943 476 5919.', 'UK_NHS'), ['943 476 5919']);
  t.same(found('Patient NHS no: 9434765919', 'UK_NHS'), ['9434765919']);
  t.same(found('ref 9434765919', 'UK_NHS'), [], 'bare, without context');
  t.same(found('NHS 943 476 5918', 'UK_NHS'), [], 'check digit wrong');
  t.same(detectJson('{"nhsNumber": "943-476-5919"}', ['UK_NHS']).map((s) => s.path), ['$.nhsNumber'], 'a JSON key is context');
});

t.test('UK National Insurance number', async (t) => {
  for (const v of ['AB123456C', 'AB 12 34 56 C', 'ab123456c']) t.same(found(`NI ${v}.`, 'UK_NINO'), [v], v);
  for (const v of ['DA123456C', 'AO123456C', 'GB123456A', 'AB123456E', 'AB1234567C', 'Ab123456C']) t.same(found(`NI ${v}.`, 'UK_NINO'), [], v);
  t.ok(isValidNino('JG103759A'));
  t.notOk(isValidNino('QQ123456C'));
});

t.test('US ITIN', async (t) => {
  t.ok(isValidItin('912701234'));
  t.notOk(isValidItin('912691234'), 'group 69 is not issued');
  t.notOk(isValidItin('812701234'));
  t.same(found('ITIN 912-70-1234', 'US_ITIN'), ['912-70-1234']);
  t.same(found('filed with 9xx: 912 94 1234', 'US_ITIN'), ['912 94 1234']);
  t.same(found('ITIN: 912701234', 'US_ITIN'), ['912701234']);
  t.same(found('order 912701234', 'US_ITIN'), [], 'bare, without context');
  t.same(found('ITIN 912-69-1234', 'US_ITIN'), []);
});

t.test('IP addresses, v4 and v6, validated by node:net', async (t) => {
  for (const v of ['192.168.10.20', '8.8.8.8', '2001:db8::ff00:42:8329', 'fe80::1', '::ffff:192.0.2.128', '2001:0db8:0000:0000:0000:ff00:0042:8329']) {
    t.same(found(`from ${v}.`, 'IP_ADDRESS'), [v], v);
  }
  for (const v of ['256.1.1.1', '1.2.3', '10.0.19045.3803', 'v1.2.3.4', '12:30:45', '00:1A:2B:3C:4D:5E', '::', '2024-05-01']) {
    t.same(found(`from ${v} on`, 'IP_ADDRESS'), [], v);
  }
});

t.test('crypto wallet addresses: checksums by @scure/base, node:crypto and keccak', async (t) => {
  for (const v of [
    '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', // P2PKH
    '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', // P2SH
    'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', // bech32, segwit v0
    'BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4',
    'bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297', // bech32m, taproot
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', // EIP-55 checksum case
    '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', // lower case: no checksum written
  ]) {
    t.same(found(`send to ${v} today`, 'CRYPTO_WALLET'), [v], v);
  }
  for (const v of [
    '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3', // checksum
    'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', // checksum
    'bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3298',
    'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7KV8F3T4', // mixed case
    '0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed', // wrong checksum case
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe', // 39 hex digits
  ]) {
    t.same(found(`send to ${v} today`, 'CRYPTO_WALLET'), [], v);
  }
});
