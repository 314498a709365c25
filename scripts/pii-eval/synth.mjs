// A seeded synthetic evaluation set for the PII detectors, generated with
// @faker-js/faker across many locales. Each case is a text or a JSON document with
// every personal value labelled by entity and offsets (end exclusive); decoys (order
// numbers, timestamps, prices, ISBNs, tracking numbers, coordinates, dates, version
// strings, house and street numbers) sit beside them and must not be found.
//
// Same seed, same set: the faker instances are seeded per case, and every choice is
// made from them. Template families: 'A' (the development and held-out sets), 'B'
// (other sentences, other JSON keys, other separators) to catch tuning to A, and 'C'
// (no context words or naming keys at all) to show what is found without them.
import { allFakers } from '@faker-js/faker';

export const LOCALES = [
  'en_US', 'en_GB', 'en_CA', 'en_AU', 'en_IN', 'en_IE', 'en_ZA', 'de', 'de_AT', 'de_CH', 'fr', 'fr_BE', 'fr_CH',
  'it', 'es', 'es_MX', 'pt_BR', 'pt_PT', 'nl', 'nl_BE', 'pl', 'sv', 'nb_NO', 'da', 'fi', 'cs_CZ', 'sk', 'hu', 'ro',
  'ru', 'uk', 'tr', 'el', 'he', 'ja', 'ko', 'zh_CN', 'zh_TW', 'id_ID', 'vi', 'th', 'hr',
];

/** Country of a locale (for IBANs and the phone region): the part after '_', or the language's usual country. */
const COUNTRY = {
  en: 'US', de: 'DE', fr: 'FR', it: 'IT', es: 'ES', nl: 'NL', pl: 'PL', sv: 'SE', da: 'DK', fi: 'FI', hu: 'HU', ro: 'RO',
  ru: 'RU', uk: 'UA', tr: 'TR', el: 'GR', he: 'IL', ja: 'JP', ko: 'KR', vi: 'VN', th: 'TH', hr: 'HR', sk: 'SK',
};
export const countryOf = (locale) => (locale.includes('_') ? locale.split('_').pop() : COUNTRY[locale]);

// Cards: every issuer faker-js knows (its locales' credit_card definitions), and the
// issuers and lengths of other common generators (Python Faker: 15-digit JCB 2131/1800,
// 12-digit Maestro, 19-digit Visa).
const EXTRA_CARD_FORMATS = {
  jcb15: ['2131##########L', '1800##########L'],
  jcb16: ['35[28-89]###########L'],
  maestro: ['5018#######L', '5020#######L', '5038#######L', '56#########L', '57#########L', '58#########L', '6304#######L', '6759#######L', '6761#######L', '6762#######L', '6763#######L', '0604#######L', '6390#######L'],
  visa19: ['4#################L'],
  visa16: ['4##############L'],
  mir: ['220[0-4]###########L'],
};

// IBAN countries faker knows (its IBAN formats), read from faker itself below.
let ibanCountries = null;
function ibanCountriesOf(f) {
  if (ibanCountries) return ibanCountries;
  const probe = ['AD', 'AE', 'AL', 'AT', 'AZ', 'BA', 'BE', 'BG', 'BH', 'BR', 'BY', 'CH', 'CR', 'CY', 'CZ', 'DE', 'DK', 'DO', 'EE', 'EG', 'ES', 'FI', 'FO', 'FR', 'GB', 'GE', 'GI', 'GL', 'GR', 'GT', 'HR', 'HU', 'IE', 'IL', 'IQ', 'IS', 'IT', 'JO', 'KW', 'KZ', 'LB', 'LC', 'LI', 'LT', 'LU', 'LV', 'MC', 'MD', 'ME', 'MK', 'MR', 'MT', 'MU', 'NL', 'NO', 'PK', 'PL', 'PS', 'PT', 'QA', 'RO', 'RS', 'SA', 'SC', 'SE', 'SI', 'SK', 'SM', 'ST', 'SV', 'TL', 'TN', 'TR', 'UA', 'VA', 'VG', 'XK', 'BI', 'DJ', 'FK', 'LY', 'MN', 'NI', 'OM', 'RU', 'SD', 'SO', 'YE', 'HN'];
  ibanCountries = probe.filter((cc) => {
    try {
      f.finance.iban({ countryCode: cc });
      return true;
    } catch {
      return false;
    }
  });
  return ibanCountries;
}

function luhnDigit(body) {
  let sum = 0;
  let dbl = true;
  for (let i = body.length - 1; i >= 0; i--) {
    let d = body.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return String((10 - (sum % 10)) % 10);
}

/** faker's card format language: '#' a digit, '[a-b]' a range, 'L' the Luhn digit, '-' a separator. */
function fillCard(f, fmt) {
  let s = fmt.replace(/\[(\d+)-(\d+)\]/g, (_, a, b) => String(f.number.int({ min: Number(a), max: Number(b) })));
  s = s.replace(/#/g, () => String(f.number.int(9)));
  const digits = s.replace(/[^0-9]/g, '');
  return digits + luhnDigit(digits);
}

function groupCard(f, digits, family) {
  const style = f.number.int(family === 'B' ? 3 : 2);
  if (style === 0) return digits;
  const sep = style === 1 ? ' ' : '-';
  if (digits.length === 15 && /^3[47]/.test(digits)) return [digits.slice(0, 4), digits.slice(4, 10), digits.slice(10)].join(sep);
  if (digits.length === 14 && /^3[0689]/.test(digits)) return [digits.slice(0, 4), digits.slice(4, 10), digits.slice(10)].join(sep);
  return digits.match(/.{1,4}/g).join(sep);
}

function card(f, locale, family) {
  const defs = f.rawDefinitions.finance?.credit_card ?? {};
  const issuers = Object.keys(defs).concat(Object.keys(EXTRA_CARD_FORMATS));
  const issuer = f.helpers.arrayElement(issuers);
  const fmts = defs[issuer] ?? EXTRA_CARD_FORMATS[issuer];
  const digits = fillCard(f, f.helpers.arrayElement(fmts));
  return { value: groupCard(f, digits, family), tag: issuer };
}

/** faker's phone format language: '#' a digit, '!' a digit 2..9. */
const fillPhone = (f, fmt) => fmt.replace(/[#!]/g, (c) => String(c === '#' ? f.number.int(9) : f.number.int({ min: 2, max: 9 })));

// Python Faker's en_US formats that faker-js lacks: the 001- international prefix, '+1-', extensions.
const EXTRA_US_PHONES = ['001-!##-!##-####x###', '001-!##-!##-####', '+1-!##-!##-####x####', '+1-!##-!##-####', '(!##)!##-####x###', '!##.!##.####x#####', '+1 (!##) !##-####', '!##-1##-####'];

function phone(f, locale, family) {
  const fmts = f.rawDefinitions.phone_number?.format ?? {};
  const style = f.helpers.arrayElement(Object.keys(fmts));
  let pool = fmts[style];
  let tag = style;
  if (locale === 'en_US' && f.number.int(3) === 0) {
    pool = EXTRA_US_PHONES;
    tag = 'us-extra';
  }
  let value = fillPhone(f, f.helpers.arrayElement(pool));
  // an extension on some numbers in any locale (faker's en_US has them; people write them everywhere)
  if (!/x\d/.test(value) && f.number.int(12) === 0) value += f.helpers.arrayElement([' x', ' ext. ', ' ext ', ' #']) + String(f.number.int({ min: 10, max: 9999 }));
  return { value, tag };
}

function iban(f, family) {
  const cc = f.helpers.arrayElement(ibanCountriesOf(f));
  const formatted = f.datatype.boolean();
  let value = f.finance.iban({ formatted, countryCode: cc });
  const lower = f.number.int(family === 'B' ? 2 : 3) === 0;
  if (lower) value = value.toLowerCase();
  return { value, tag: `${formatted ? 'spaced' : 'compact'}${lower ? ' lower' : ''}`, country: cc };
}

function ssn(f, family) {
  let area;
  do area = f.number.int({ min: 1, max: 899 });
  while (area === 666);
  const a = String(area).padStart(3, '0');
  const g = String(f.number.int({ min: 1, max: 99 })).padStart(2, '0');
  const s = String(f.number.int({ min: 1, max: 9999 })).padStart(4, '0');
  const sep = family === 'A' ? f.helpers.arrayElement(['-', '-', '-', ' ']) : f.helpers.arrayElement(['-', '-', ' ', '.']);
  return { value: `${a}${sep}${g}${sep}${s}`, tag: sep === '-' ? 'dashed' : sep === ' ' ? 'spaced' : 'dotted' };
}

function email(f) {
  const first = f.person.firstName();
  const last = f.person.lastName();
  const value = f.helpers.arrayElement([() => f.internet.email({ firstName: first, lastName: last }), () => f.internet.exampleEmail(), () => f.internet.email()])();
  return { value, tag: 'email' };
}

// Decoys: values shaped like numbers people write that are not personal data.
const DECOYS = {
  order: (f) => f.helpers.arrayElement([`ORD-${f.number.int({ min: 2019, max: 2026 })}-${f.string.numeric(6)}`, `#${f.string.numeric(7)}`, `SO${f.string.numeric(8)}`, `order ${f.string.numeric(9)}`, `PO-${f.string.numeric(4)}-${f.string.numeric(4)}`]),
  timestamp: (f) => {
    const d = f.date.between({ from: '2015-01-01', to: '2026-12-31' });
    return f.helpers.arrayElement([d.toISOString(), String(Math.floor(d.getTime() / 1000)), d.toISOString().replace('T', ' ').slice(0, 19), String(d.getTime())]);
  },
  price: (f) => {
    const v = f.number.float({ min: 1, max: 99999, fractionDigits: 2 });
    const [i, frac] = v.toFixed(2).split('.');
    const th = i.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const eu = i.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    const sp = i.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
    return f.helpers.arrayElement([`$${th}.${frac}`, `€${eu},${frac}`, `${sp},${frac} zł`, `${th}.${frac} USD`, `CHF ${i}.${frac}`]);
  },
  isbn: (f) => {
    const body = `978${f.string.numeric(9)}`;
    let sum = 0;
    for (let k = 0; k < 12; k++) sum += (body.charCodeAt(k) - 48) * (k % 2 ? 3 : 1);
    const d = body + ((10 - (sum % 10)) % 10);
    return f.helpers.arrayElement([d, `${d.slice(0, 3)}-${d.slice(3, 4)}-${d.slice(4, 7)}-${d.slice(7, 12)}-${d.slice(12)}`, `ISBN ${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5, 9)}-${d.slice(9, 12)}-${d.slice(12)}`]);
  },
  tracking: (f) => f.helpers.arrayElement([`1Z${f.string.alphanumeric({ length: 6, casing: 'upper' })}${f.string.numeric(10)}`, `9400 1${f.string.numeric(3)} ${f.string.numeric(4)} ${f.string.numeric(4)} ${f.string.numeric(4)} ${f.string.numeric(2)}`, `7${f.string.numeric(11)}`, `JD${f.string.numeric(18)}`, `LX${f.string.numeric(9)}CN`]),
  coordinates: (f) => {
    const lat = f.location.latitude({ precision: f.number.int({ min: 4, max: 6 }) });
    const lon = f.location.longitude({ precision: f.number.int({ min: 4, max: 6 }) });
    return f.helpers.arrayElement([`${lat}, ${lon}`, `${lat},${lon}`, `${lat} ${lon}`]);
  },
  date: (f) => {
    const d = f.date.between({ from: '1950-01-01', to: '2030-12-31' });
    const y = d.getUTCFullYear();
    const m = String(d.getUTCMonth() + 1).padStart(2, '0');
    const day = String(d.getUTCDate()).padStart(2, '0');
    return f.helpers.arrayElement([`${day}.${m}.${y}`, `${y}-${m}-${day}`, `${m}/${day}/${y}`, `${y}/${m}/${day}`, `${day}-${m}-${y}`, `${day} ${m} ${y}`]);
  },
  version: (f) => f.helpers.arrayElement([`v${f.number.int(20)}.${f.number.int(40)}.${f.number.int(99)}`, `${f.number.int(9)}.${f.number.int(9)}.${f.number.int(9)}.${f.number.int(9999)}`, `10.0.${f.number.int({ min: 10000, max: 22631 })}.${f.number.int(4000)}`, `build ${f.number.int({ min: 2019, max: 2026 })}.${f.string.numeric(4)}.${f.string.numeric(5)}`]),
  address: (f) => f.helpers.arrayElement([() => f.location.streetAddress({ useFullAddress: true }), () => `${f.location.buildingNumber()} ${f.location.buildingNumber()} ${f.location.street()}`, () => `${f.location.street()} ${f.location.buildingNumber()}, ${f.location.zipCode()} ${f.location.city()}`])(),
};
export const DECOY_KINDS = Object.keys(DECOYS);

// Sentence templates: {v} the value, {n} a name, {d} a decoy. Family A and B share nothing.
const TEMPLATES = {
  A: {
    CREDIT_CARD: ['Card on file: {v}, expires 04/29.', '{n} paid with card {v} on {d}.', 'Please charge {v} for the renewal.', 'The card number {v} was declined at checkout.'],
    PHONE_NUMBER: ['Call {n} at {v} tomorrow.', 'Phone: {v}', 'You can reach me on my mobile {v} after 6pm.', 'Tel. {v} (office), ref {d}', 'Telefon: {v}', 'Téléphone : {v}', 'Teléfono {v}', 'Contact {n}, phone {v}.'],
    IBAN_CODE: ['Please transfer the deposit to IBAN {v} by Friday.', 'Bank account: {v} ({n})', 'IBAN {v}', 'Refund sent to {v} on {d}.'],
    US_SSN: ['SSN: {v}', "{n}'s social security number is {v}.", 'Employee SSN {v} on the W-2 form.', 'Verify SSN {v} against {d}.'],
    EMAIL_ADDRESS: ['Send the invoice to {v} please.', 'Contact: {n} <{v}>', 'Reply to {v} before {d}.', 'E-mail: {v}'],
    decoy: ['Order {d} shipped.', 'Logged at {d}.', 'Total {d}.', 'See {d} for details.', 'Reference {d}', 'Updated {d} by {n}.', 'Ship to {d}.'],
  },
  B: {
    CREDIT_CARD: ['{n} wrote: "my visa is {v}, pls update"', 'cc# {v}', 'New payment method ({d}): {v}', 'Kreditkarte {v} wurde belastet.'],
    PHONE_NUMBER: ['WhatsApp {v}', '{n} - mob. {v}', 'Numéro de portable: {v}', 'Rufen Sie uns an unter {v}.', 'Chiamare il numero {v}', 'Ligue para {v} amanhã', 'tel:{v}', 'For support dial {v}.', 'Mobil {v} · {d}'],
    IBAN_CODE: ['Kontonummer (IBAN): {v}', '{n}, iban {v}, bic DEUTDEFF', 'Virement sur le compte {v}.', 'Betaal aan {v} o.v.v. {d}'],
    US_SSN: ['ss# {v}', 'Taxpayer {n} (SSN {v})', 'social: {v}', 'SSN of the applicant - {v} - confirmed'],
    EMAIL_ADDRESS: ['mailto:{v}', '{n} ({v}) joined on {d}', 'cc {v}; bcc {n}', '<{v}>'],
    decoy: ['{n} ordered item {d}.', 'Timestamp {d}', 'Price {d} incl. VAT', 'Version {d} released', 'Coordinates {d}', 'Delivered to {d}', 'Batch {d} done.'],
  },
  // No context at all: the value alone, or beside a name and a decoy, under neutral keys.
  // What a detector must find without a phone word (weak national shapes are not, by design).
  C: {
    CREDIT_CARD: ['{v}', '{n}: {v}', '{v} ({d})'],
    PHONE_NUMBER: ['{v}', '{n}: {v}', '{v} ({d})'],
    IBAN_CODE: ['{v}', '{n}: {v}', '{v} ({d})'],
    US_SSN: ['{v}', '{n}: {v}', '{v} ({d})'],
    EMAIL_ADDRESS: ['{v}', '{n}: {v}', '{v} ({d})'],
    decoy: ['{d}', '{n}: {d}', '{d} ({n})'],
  },
};
const JSON_KEYS = {
  A: { CREDIT_CARD: ['card', 'cardNumber', 'pan'], PHONE_NUMBER: ['phone', 'mobile', 'tel', 'telephone'], IBAN_CODE: ['iban', 'bankAccount'], US_SSN: ['ssn'], EMAIL_ADDRESS: ['email', 'contactEmail'], text: ['note', 'comment', 'description'] },
  C: { CREDIT_CARD: ['value', 'data'], PHONE_NUMBER: ['value', 'data'], IBAN_CODE: ['value', 'data'], US_SSN: ['value', 'data'], EMAIL_ADDRESS: ['value', 'data'], text: ['text', 'info'] },
  B: { CREDIT_CARD: ['cc', 'payment_card'], PHONE_NUMBER: ['phone_number', 'telefon', 'cell', 'contact_phone', 'fax'], IBAN_CODE: ['account_iban', 'konto'], US_SSN: ['social_security_number', 'tax_id'], EMAIL_ADDRESS: ['mail', 'user_email'], text: ['message', 'remarks', 'body'] },
};
const DECOY_KEYS = { order: 'orderId', timestamp: 'createdAt', price: 'total', isbn: 'isbn', tracking: 'trackingNumber', coordinates: 'location', date: 'date', version: 'version', address: 'address' };

const GENERATORS = {
  CREDIT_CARD: card,
  PHONE_NUMBER: phone,
  IBAN_CODE: (f, _l, family) => iban(f, family),
  US_SSN: (f, _l, family) => ssn(f, family),
  EMAIL_ADDRESS: (f) => email(f),
};
export const SYNTH_ENTITIES = Object.keys(GENERATORS);

function fakerFor(locale) {
  const f = allFakers[locale];
  if (!f) throw new Error(`faker has no locale ${locale}`);
  return f;
}

/** Fills a template; returns the text and the value's offset. */
function fill(f, template, value, decoy) {
  const name = f.person.fullName();
  let out = '';
  let at = -1;
  for (const part of template.split(/(\{[vnd]\})/)) {
    if (part === '{v}') {
      at = out.length;
      out += value;
    } else if (part === '{n}') out += name;
    else if (part === '{d}') out += decoy;
    else out += part;
  }
  return { text: out, at };
}

/**
 * `count` cases from seed `seed`. A case: { id, locale, format: 'text'|'json', text,
 * labels: [{entity, start, end, tag}], decoys: [kind] }.
 */
export function generate({ seed, count, family = 'A' }) {
  const T = TEMPLATES[family];
  const K = JSON_KEYS[family];
  const cases = [];
  for (let i = 0; i < count; i++) {
    const locale = LOCALES[i % LOCALES.length];
    const f = fakerFor(locale);
    f.seed(seed * 1_000_003 + i);
    const asJson = f.number.int(2) === 0;
    const labels = [];
    const decoys = [];
    // 1-3 items: personal values (SSNs only for en_US) and decoys
    const items = [];
    const nItems = f.number.int({ min: 1, max: 3 });
    for (let k = 0; k < nItems; k++) {
      const pick = f.number.int(9);
      if (pick < 3) items.push({ decoy: f.helpers.arrayElement(DECOY_KINDS) });
      else {
        const choices = locale === 'en_US' ? SYNTH_ENTITIES : SYNTH_ENTITIES.filter((e) => e !== 'US_SSN');
        const weights = choices.map((e) => (e === 'PHONE_NUMBER' ? 3 : e === 'US_SSN' ? 3 : 1));
        items.push({ entity: f.helpers.weightedArrayElement(choices.map((e, x) => ({ value: e, weight: weights[x] }))) });
      }
    }
    const decoyValue = () => {
      const kind = f.helpers.arrayElement(DECOY_KINDS);
      decoys.push(kind);
      return DECOYS[kind](f);
    };
    if (!asJson) {
      let text = '';
      for (const it of items) {
        if (text) text += ' ';
        if (it.decoy) {
          decoys.push(it.decoy);
          text += fill(f, f.helpers.arrayElement(T.decoy), '', DECOYS[it.decoy](f)).text;
          continue;
        }
        const { value, tag } = GENERATORS[it.entity](f, locale, family);
        const { text: s, at } = fill(f, f.helpers.arrayElement(T[it.entity]), value, decoyValue());
        labels.push({ entity: it.entity, start: text.length + at, end: text.length + at + value.length, tag });
        text += s;
      }
      cases.push({ id: `${family}${seed}-${i}`, locale, format: 'text', text, labels, decoys });
      continue;
    }
    // JSON: a record; personal values under their keys, or in a sentence under a text key
    let text = '{"id": ' + f.number.int({ min: 1000, max: 999999 }) + ', "name": ' + JSON.stringify(f.person.fullName());
    const used = new Set(['id', 'name']);
    const key = (list) => {
      let k = f.helpers.arrayElement(list);
      while (used.has(k)) k += '2';
      used.add(k);
      return k;
    };
    for (const it of items) {
      if (it.decoy) {
        decoys.push(it.decoy);
        text += `, ${JSON.stringify(key([DECOY_KEYS[it.decoy]]))}: ${JSON.stringify(DECOYS[it.decoy](f))}`;
        continue;
      }
      const { value, tag } = GENERATORS[it.entity](f, locale, family);
      const inSentence = f.number.int(3) === 0;
      const k = key(inSentence ? K.text : K[it.entity]);
      const str = inSentence ? fill(f, f.helpers.arrayElement(T[it.entity]), value, decoyValue()) : { text: value, at: 0 };
      const enc = JSON.stringify(str.text);
      if (enc.length !== str.text.length + 2) continue; // an escape would shift offsets: left out
      text += `, ${JSON.stringify(k)}: `;
      const start = text.length + 1 + str.at;
      labels.push({ entity: it.entity, start, end: start + value.length, tag: `${tag} json${inSentence ? ' sentence' : ''}` });
      text += enc;
    }
    text += '}';
    cases.push({ id: `${family}${seed}-${i}`, locale, format: 'json', text, labels, decoys });
  }
  return cases;
}

/** The three sets `eval:pii` reports. The held-out seeds are never looked at while tuning. */
export const SETS = {
  dev: { seed: 11, count: 3000, family: 'A' },
  heldout: { seed: 73, count: 3000, family: 'A' },
  altTemplates: { seed: 97, count: 3000, family: 'B' },
  /** informational: no phone word, no naming key (see TEMPLATES.C) */
  noContext: { seed: 131, count: 3000, family: 'C' },
};
