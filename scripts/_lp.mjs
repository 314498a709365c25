import { generate, SETS, countryOf } from './pii-eval/synth.mjs';
import { parsePhoneNumberFromString, isSupportedCountry, getCountryCallingCode } from 'libphonenumber-js/min';
import { parsePhoneNumberFromString as parseMax } from 'libphonenumber-js/max';
const cases = generate(SETS.dev);
const st = {};
let t = 0, n = 0;
for (const c of cases) for (const l of c.labels) {
  if (l.entity !== 'PHONE_NUMBER') continue;
  const v = c.text.slice(l.start, l.end);
  const cc = countryOf(c.locale);
  const t0 = performance.now();
  const p = parsePhoneNumberFromString(v.replace(/^00/, '+').replace(/^\+?001-/, '+'), isSupportedCountry(cc) ? cc : undefined);
  t += performance.now() - t0; n++;
  const k = (v.startsWith('+') || v.startsWith('00') ? 'intl' : 'national');
  const s = (st[k] ??= { n: 0, parsed: 0, possible: 0, valid: 0, validMax: 0 });
  s.n++; if (p) { s.parsed++; if (p.isPossible()) s.possible++; if (p.isValid()) s.valid++; }
  const pm = parseMax(v.replace(/^00/, '+'), isSupportedCountry(cc) ? cc : undefined); if (pm?.isValid()) s.validMax++;
}
console.log(st, 'us per parse', (t / n * 1000).toFixed(1));
