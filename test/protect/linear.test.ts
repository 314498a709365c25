import t from 'tap';
import { measureGrowth, describeGrowth } from '../helpers/growth.js';
import { detectPii, detectJson, ALL_ENTITIES } from '../../src/protect/detect.js';

// Adversarial inputs of growing size: time must grow roughly linearly (see helpers/growth).
// Each shape targets a detector's scanning loop.
const gens: Record<string, (n: number) => string> = {
  digits: (n) => '1'.repeat(n),
  digitsX: (n) => '4'.repeat(n) + 'x',
  spacedDigits: (n) => '1 '.repeat(n / 2),
  dashedGroups: (n) => '4111-'.repeat(n / 5),
  spacedGroups: (n) => '4111 '.repeat(n / 5),
  dotted: (n) => '1.'.repeat(n / 2),
  parens: (n) => '(1) '.repeat(n / 4),
  plus: (n) => '+1 '.repeat(n / 3),
  ats: (n) => '@'.repeat(n),
  atWords: (n) => 'a@'.repeat(n / 2),
  atDots: (n) => 'a@b.'.repeat(n / 4),
  localRun: (n) => 'a'.repeat(n) + '@b',
  domainRun: (n) => 'a@' + 'b.'.repeat(n / 2),
  dots: (n) => '.'.repeat(n),
  ibanish: (n) => 'DE89 '.repeat(n / 5),
  ibanUpper: (n) => 'DE'.repeat(n / 2),
  ibanRun: (n) => 'DE89' + '0'.repeat(n),
  ibanGroups: (n) => 'DE89' + ' 0000'.repeat(n / 5),
  ssnish: (n) => '123-45-'.repeat(n / 7),
  phoneish: (n) => '(415) 555-'.repeat(n / 10),
  mixed: (n) => 'x 4111 1111 1111 1111 a@b.io 415-555-0132 '.repeat(n / 42),
  // phone forms checked against the numbering plans, extensions, context words
  slashes: (n) => '1/'.repeat(n / 2),
  parenPlus: (n) => '(+1 '.repeat(n / 4),
  zeros: (n) => '00 '.repeat(n / 3),
  extensions: (n) => '030 1234567 x1 '.repeat(n / 15),
  extWords: (n) => '1234567 ext. '.repeat(n / 13),
  phoneWords: (n) => 'tel 94 764 '.repeat(n / 11),
  contextRuns: (n) => 'Telefon: ' + '9'.repeat(n),
  // IBANs in lower case
  ibanLower: (n) => 'de89 '.repeat(n / 5),
  ibanLowerRun: (n) => 'de89' + 'a'.repeat(n),
};

t.test('detectPii is linear in the input size', async (t) => {
  const small = 16_000;
  const large = small * 8;
  for (const [name, gen] of Object.entries(gens)) {
    const a = gen(small);
    const b = gen(large);
    const g = measureGrowth(() => detectPii(a), () => detectPii(b));
    t.ok(g.linear, describeGrowth(name, g));
  }
});

t.test('detectJson is linear too', async (t) => {
  const mk = (n: number): string => JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: i, card: '4111 1111 1111 1111', s: 'a@'.repeat(10) })));
  const a = mk(500);
  const b = mk(4000);
  const g = measureGrowth(() => detectJson(a), () => detectJson(b));
  t.ok(g.linear, describeGrowth('json', g));
  const deep = '{"a":'.repeat(60) + '"x"' + '}'.repeat(60);
  t.equal(detectJson(deep).length, 0);
});

t.test('the optional detectors are linear too', async (t) => {
  const all = [...ALL_ENTITIES];
  const shapes: Record<string, (n: number) => string> = {
    colons: (n) => ':'.repeat(n),
    hexColons: (n) => 'a:'.repeat(n / 2),
    dottedRuns: (n) => '1.1.1.1.'.repeat(n / 8),
    hexRun: (n) => 'f'.repeat(n),
    letterPairs: (n) => 'AB '.repeat(n / 3),
    ninoish: (n) => 'AB 12 34 '.repeat(n / 9),
    nhsish: (n) => '943 476 '.repeat(n / 8),
    itinish: (n) => '912-70-'.repeat(n / 7),
    nines: (n) => '9'.repeat(n),
    base58Run: (n) => '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'.repeat(n / 34),
    walletWords: (n) => '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 '.repeat(n / 35),
    hexWords: (n) => '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed '.repeat(n / 43),
  };
  for (const [name, gen] of Object.entries(shapes)) {
    const a = gen(16_000);
    const b = gen(128_000);
    const g = measureGrowth(() => detectPii(a, all), () => detectPii(b, all));
    t.ok(g.linear, describeGrowth(name, g));
  }
});
