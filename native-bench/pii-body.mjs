// The 4 KB JSON answer of the `masked` and `full` scenarios: customer
// records holding personal data of every kind the protect stage detects
// (cards, US SSNs, emails, phones, IBANs), also inside free text.
const record = (i) => ({
  id: `cus_${1000 + i}`,
  name: `Customer ${i}`,
  email: `customer${i}@example.com`,
  phone: '+1 415 555 0134',
  card: '4111 1111 1111 1111',
  ssn: '536-22-8726',
  iban: 'GB82 WEST 1234 5698 7654 32',
  plan: 'business',
  note: `Paid with card 4111 1111 1111 1111 on behalf of customer${i}@example.com; call back before noon.`,
});

function build(target) {
  const records = [];
  let text = '';
  // Whole records until the next one would pass the target size.
  for (let i = 0; ; i++) {
    const next = JSON.stringify({ customers: [...records, record(i)], page: 1 });
    if (Buffer.byteLength(next) > target) break;
    records.push(record(i));
    text = next;
  }
  return Buffer.from(text);
}

/** About 4 KB (a little under 4096 bytes) of JSON. */
export const PII_BODY = build(4096);
