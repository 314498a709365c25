import t from 'tap';
import { detectPii, detectJson } from '../../src/protect/detect.js';

// Adversarial inputs of growing size: 8x the input may cost at most 16x the time
// (quadratic would be 64x). Each shape targets a detector's scanning loop.
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
};

function time(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function best(f: () => void, runs = 5): number {
  let b = Infinity;
  for (let i = 0; i < runs; i++) b = Math.min(b, time(f));
  return b;
}

t.test('detectPii is linear in the input size', async (t) => {
  const small = 16_000;
  const large = small * 8;
  for (const [name, gen] of Object.entries(gens)) {
    const a = gen(small);
    const b = gen(large);
    detectPii(a); // warm up
    const ta = Math.max(best(() => detectPii(a)), 2);
    const tb = best(() => detectPii(b));
    t.ok(tb < ta * 16, `${name}: ${ta.toFixed(1)}ms -> ${tb.toFixed(1)}ms`);
    t.ok(tb < 1000, `${name}: ${large} chars under 1 s (${tb.toFixed(1)}ms)`);
  }
});

t.test('detectJson is linear too', async (t) => {
  const mk = (n: number): string => JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: i, card: '4111 1111 1111 1111', s: 'a@'.repeat(10) })));
  const a = mk(500);
  const b = mk(4000);
  detectJson(a);
  const ta = Math.max(best(() => detectJson(a)), 1);
  const tb = best(() => detectJson(b));
  t.ok(tb < ta * 16, `json: ${ta.toFixed(1)}ms -> ${tb.toFixed(1)}ms`);
  const deep = '{"a":'.repeat(60) + '"x"' + '}'.repeat(60);
  t.equal(detectJson(deep).length, 0);
});
