#!/usr/bin/env node
// Writes the generated part of the benign API fixture set (test/fixtures/benign-api/gen-*),
// from a fixed seed so the files are reproducible:
//
//   node scripts/lib/benign-gen.mjs [--seed 20261208]
//
// Requests an API sees every day: REST ids, JSON orders and profiles, comments and
// tickets whose free text holds code, Markdown, YAML, SQL-like English, prices and
// URLs, GraphQL queries, search strings, form posts, headers.
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/benign-api');
let seed = 20261208;
const i = process.argv.indexOf('--seed');
if (i > 0) seed = Number(process.argv[i + 1]);

// mulberry32
function rng() {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rng() * a.length)];
const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
const price = () => (rng() * 500).toFixed(2);

const first = ['Seán', 'Zoë', 'Mary-Kate', "D'Angelo", 'Li', 'Anna', 'Grace', 'Peter', 'Aoife', 'José', 'Björn', 'Chloé', 'Ng', 'Oluwaseun', 'Priya', 'Tom', 'Select', 'Union', 'Drop'];
const last = ["O'Brien", "O'Connell", 'Smith', 'Müller', 'Nguyen', 'Wei', "D'Souza", 'Ní Bhriain', 'García-López', 'Union', 'Select', 'Drop', 'Table', 'Script', 'Echo', 'Cat', 'Kill', 'Sleep'];
const streets = ["12 O'Connell St", "Rue de l'Église 3", '1 Select Way', '99 Union Square', '5th & Main', 'Apt 4B, 221B Baker St', "Chemin d'Azur 7", '10 Drop Lane #3', 'Calle 13 # 45-67', 'Unit 2/14 King St'];
const cities = ['Union City', 'São Paulo', 'Köln', "Val-d'Or", 'Selection Falls', 'Zürich', 'Coeur d’Alene', 'Dún Laoghaire', 'Echo Lake', 'Cat Island'];
const products = ['Script font stencil set', 'Mac & cheese bowl', 'Sleep mask - silk', 'Union Pacific model train', "5' x 8' area rug", 'Drop-leaf oak table', 'Table runner, linen (2 m)', 'Cat tree (large)', 'Echo Dot 4th gen', 'Kill switch for e-bike', '"Select" coffee beans 1kg', 'Order-by-phone gift card', 'Char-broil grill cover', 'USB-C cable 2 m | braided', 'Tom & Jerry DVD', 'Socks 3-pack (size 9-11)', 'Node.js in Action, 2nd ed.', 'C++ Primer (5th edition)', '100% cotton tee', 'Java beans, dark roast'];
const notes = [
  "Call when you get here, and we'll come down",
  "Select the faster shipping if it's < $10 more",
  'Leave at the door; ring bell twice',
  'My order #1234 and #1235 should ship together',
  'Please deliver between 9-5 (weekdays only)',
  'Gift wrap, no price tag! Card says: "Happy 30th, Sam -- love, Mo & Jo"',
  'If nobody answers, leave it with #4 / the neighbours',
  'Use the side entrance (the one with the script sign)',
  'Fragile: glass > handle with care',
  'Cash on delivery? If not, card is fine.',
  "It's for my mom's 60th — can you add a note?",
  'Door code is 4#72*',
  'No plastic please :)',
  'Ship with the other one from order 5531 or 5532, whichever is first',
  'Drop it by the garage, 2nd door on the left',
];
const codeSnippets = [
  'When I run `npm install --save ztgate-client` I get ERESOLVE. Node 20.11, npm 10.',
  "Python snippet: resp = requests.get(url, params={'q': 'union select'}); print(resp.status_code)",
  'My config:\n```yaml\nserver:\n  port: 8080\n  host: 0.0.0.0\nlogging:\n  level: debug\n```',
  'Tried this:\n```js\nconst res = await fetch(`/api/orders/${id}`);\nif (!res.ok) throw new Error(res.statusText);\n```',
  'The query `SELECT id, name FROM orders WHERE status = \'open\'` is slow on our side, is there an index?',
  'Stack trace:\n  at Object.<anonymous> (/app/index.js:12:5)\n  at Module._compile (node:internal/modules/cjs/loader:1256:14)',
  'In Go: `if err != nil { return fmt.Errorf("decode: %w", err) }` — the error text is lost',
  'We use `curl -H "Authorization: Bearer $TOKEN" https://api.example.com/v1/orders` and get 401',
  '```python\nfor item in items:\n    total += item["price"] * item["qty"]\n```',
  'Set `retries: 3` and `timeoutMs: 2000` in the client options, still times out.',
  'Our Dockerfile has `RUN npm ci && npm run build`; the image is 1.2 GB, any tips?',
  'Regex `^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$` rejects valid emails with + in them',
  'Java: `List<Order> orders = repo.findAll(); orders.forEach(o -> log.info(o.getId()));`',
  'The C# client does `var x = await client.GetAsync(uri);` and hangs',
  'The header `Content-Type: application/json; charset=utf-8` is sent, still 415',
  'Use `git rebase -i HEAD~3` then force-push? Asking for the docs PR.',
  'SQL in the report: total = SUM(price * qty) GROUP BY customer — is that what the dashboard shows?',
  'Rust: `let v: Vec<u8> = body.to_vec();` compiles but the bytes differ',
  'I wrote `if (a < b && b > c) { swap(a, c); }` in the webhook handler',
  'Bash one-liner I use to count: `grep -c ERROR app.log`',
];
const markdown = [
  '# Release notes\n\n- Fixed the **login** bug\n- Added `--dry-run`\n\n> Note: restart required',
  '## Steps\n1. Open *Settings*\n2. Click [Billing](https://example.com/billing)\n3. Choose "Annual"',
  '> quoted from support -- "we will refund"\n\nThanks!',
  '| plan | price |\n|------|-------|\n| pro | $29 |\n| team | $99 |',
  'See ![screenshot](https://cdn.example.com/img/123.png) for the error',
  '**Bold** and _italic_ and ~~strike~~, plus a footnote[^1].\n\n[^1]: like this',
  '- [x] done\n- [ ] todo: call back on Monday',
  'Email me at jane.doe+support@example.org or call +1 (555) 010-9999 ext. 42',
];
const prose = [
  'Please select the union blue <3',
  "I'd like to drop my subscription and select a cheaper plan",
  'Where can I update my billing address? The old one is 12 Union St.',
  'The total says $1,299.00 but the cart showed €1.199,00',
  'Can I order 2 x 3 m of the fabric, or only 1-2 m?',
  "It's 50% off (was $80), right? Or is it 50% off of $60?",
  'Ran it again at 10:45 & 11:15 and both failed',
  "Don't charge my card until it ships, thanks!",
  'Delete my account and all data, per GDPR art. 17',
  'User and/or admin can edit, but not delete, the record',
  'Is 1=1 the same as true in your filter syntax?',
  "Insert a page break between sections, or we'll print it wrong",
  'Our shop is "Tom\'s Cats & Dogs" — the apostrophe breaks the invoice',
  'We are moving from Union Square to Echo Park on 2025-06-01',
  'Sort by date desc, then by price asc; limit 50 per page',
  'When the value is null or empty, show "n/a" instead',
  'Order by phone or by email — whichever is faster',
  'I get an "Access denied" when I try to update the table of contents',
];
const graphql = [
  'query { orders(first: 10, status: OPEN) { edges { node { id total customer { name } } } } }',
  'query Order($id: ID!) { order(id: $id) { id items { sku qty price } } }',
  'mutation { updateAddress(input: {street: "12 O\'Connell St", city: "Dublin"}) { ok errors } }',
  'query Search($q: String!) { search(query: $q, limit: 20) { ... on Product { id name price } } }',
  'mutation AddItem($cart: ID!, $sku: String!) { addToCart(cart: $cart, sku: $sku, qty: 1) { cart { total } } }',
];
const searches = [
  'union blue paint', 'select comfort mattress', 'drop earrings gold', 'table lamp', 'cat food 5kg', "men's shoes size 10", 'usb-c to hdmi',
  'script font', 'echo show 8', 'kill a watt meter', 'sleep number bed', 'or-tools tutorial', "o'reilly books", 'c# book', 'node.js course',
  '"exact phrase" search', 'price < 100', 'rating >= 4', 'tom & jerry', 'r&d budget', 'ls 300 lexus', 'curl and divergence', 'zsh is the best!',
  'where is my order', 'how to delete account', '1/2 inch drill bit', '50% off', 'café au lait', 'naïve bayes', 'über eats', '3 x 5 cards',
  'black friday 2025', 'wd-40', 'ac/dc tickets', 'mp3 player', 'c++ vs rust', 'sql for beginners', 'select all that apply', 'python 3.12',
];
const tags = ['bug', 'billing', 'feature', 'question', 'urgent', 'docs', 'api', 'mobile', 'ui', 'C++', 'node.js', 'SQL', '.NET'];
const urls = ['https://example.com/a?b=1&c=2', 'https://docs.example.com/api/v2/orders#pagination', 'http://localhost.example.com/path', 'https://cdn.example.com/img/photo-123.jpg?w=200&h=100', 'https://github.com/example/repo/issues/42', 'mailto:support@example.com'];
const email = (n) => `${pick(['ann', 'bob', 'chloe', 'dmitri', 'eve', 'o.brien', 'jp'])}${n}+${pick(['shop', 'news', 'x'])}@example.${pick(['com', 'org', 'co.uk'])}`;

function order(n) {
  const items = Array.from({ length: int(1, 4) }, () => ({ sku: `SKU-${int(1000, 9999)}-${pick('ABCXYZ'.split(''))}`, name: pick(products), qty: int(1, 5), price: Number(price()) }));
  return {
    orderId: `ord_${int(1e8, 9e8)}`,
    customer: { name: `${pick(first)} ${pick(last)}`, email: email(n) },
    items,
    shipping: { street: pick(streets), city: pick(cities), zip: String(int(10000, 99999)), country: pick(['US', 'IE', 'DE', 'FR', 'BR', 'CA']) },
    note: rng() < 0.6 ? pick(notes) : null,
    coupon: rng() < 0.3 ? pick(['SAVE10', 'UNION-2024', '1=1OFF', 'BOGO', 'FREE-SHIP']) : null,
    createdAt: new Date(Date.UTC(2025, int(0, 11), int(1, 28), int(0, 23), int(0, 59))).toISOString(),
  };
}

function ticket(n) {
  const body = rng() < 0.4 ? pick(codeSnippets) : rng() < 0.5 ? pick(markdown) : pick(prose);
  return {
    ticketId: `T-${3000 + n}`,
    subject: body.split('\n')[0].slice(0, 60),
    body,
    tags: Array.from({ length: int(0, 3) }, () => pick(tags)),
    priority: pick(['low', 'normal', 'high']),
    reporter: { email: email(n), name: `${pick(first)} ${pick(last)}` },
    links: rng() < 0.3 ? [pick(urls)] : [],
  };
}

function profile(n) {
  return {
    id: `usr_${int(1e6, 9e6)}`,
    displayName: `${pick(first)} ${pick(last)}`,
    bio: pick([...prose, ...markdown.slice(0, 3), 'Full-stack dev. I write Go & TypeScript; ex-SQL DBA.', 'Cat person. Coffee > tea.', '']),
    website: pick(urls),
    address: { line1: pick(streets), city: pick(cities) },
    settings: { theme: pick(['dark', 'light']), locale: pick(['en-IE', 'pt-BR', 'de-DE', 'fr-CA']), newsletter: rng() < 0.5 },
    phone: `+${int(1, 49)} ${int(100, 999)} ${int(100, 999)} ${int(1000, 9999)}`,
  };
}

function gql() {
  const q = pick(graphql);
  return { query: q, variables: { id: `ord_${int(1e8, 9e8)}`, q: pick(searches), cart: `c_${int(1, 9999)}`, sku: `SKU-${int(1000, 9999)}` }, operationName: null };
}

function form() {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  const fields = [
    ['name', `${pick(first)} ${pick(last)}`],
    ['email', email(int(1, 999))],
    ['subject', pick(['Order question', 'Refund', "Where's my stuff?", 'Select plan', 'Drop shipping'])],
    ['message', pick([...prose, ...notes, ...codeSnippets.slice(0, 6)])],
    ['address', pick(streets)],
    ['amount', `$${price()}`],
  ];
  return fields
    .filter(() => rng() < 0.85)
    .map(([k, v]) => `${k}=${enc(v)}`)
    .join('&');
}

const headerLines = () => [
  `User-Agent: ${pick(['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', 'okhttp/4.12.0', 'python-requests/2.32.3', 'curl/8.5.0', 'Go-http-client/2.0', 'MyShopApp/3.4.1 (iPhone; iOS 17.5)', 'axios/1.7.2', 'PostmanRuntime/7.39.0'])}`,
  `Referer: ${pick(urls)}`,
  `X-Client-Version: ${int(1, 9)}.${int(0, 20)}.${int(0, 99)}`,
  `Cookie: session=${int(1e9, 9e9).toString(36)}; theme=${pick(['dark', 'light'])}; cart=${int(1, 999)}`,
  `X-Forwarded-For: 203.0.113.${int(1, 254)}`,
  `If-None-Match: W/"${int(1e5, 9e5).toString(16)}"`,
];

const lines = (n, f) => Array.from({ length: n }, (_, k) => f(k)).join('\n') + '\n';
writeFileSync(join(out, 'gen-orders.jsonl'), lines(500, (k) => JSON.stringify(order(k))));
writeFileSync(join(out, 'gen-tickets.jsonl'), lines(500, (k) => JSON.stringify(ticket(k))));
writeFileSync(join(out, 'gen-profiles.jsonl'), lines(300, (k) => JSON.stringify(profile(k))));
writeFileSync(join(out, 'gen-graphql.jsonl'), lines(150, () => JSON.stringify(gql())));
writeFileSync(join(out, 'gen-contact.form'), lines(250, () => form()));
writeFileSync(join(out, 'gen-search.txt'), lines(200, () => (rng() < 0.7 ? pick(searches) : `${pick(searches)} ${pick(['under $50', 'near me', '2025', 'reviews', 'vs', '& more'])}`)));
const hs = [];
for (let k = 0; k < 30; k++) hs.push(...headerLines());
writeFileSync(join(out, 'gen-requests.headers'), hs.join('\n') + '\n');
console.log(`written to ${out} (seed ${process.argv[i + 1] ?? 20261208})`);
