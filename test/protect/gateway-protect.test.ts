import t from 'tap';
import { createHash } from 'node:crypto';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

const CARD = '4111 1111 1111 1111';
const SSN = '536-22-8726';
const record = { name: 'Ada', card: CARD, ssn: SSN, email: 'ada@example.com', note: `paid with ${CARD}` };
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

t.test('protect stage: PII in responses masked per consumer, never logged, compressed answers withheld', async (t) => {
  const upstream = await startEchoUpstream((req, res) => {
    if (req.url!.startsWith('/gz')) return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': '4' }).end('abcd');
    const body = JSON.stringify(record);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  const port = await freePort();
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    identity: {
      consumers: [
        { name: 'bank', groups: ['banks'], apiKeys: [{ sha256: sha('bank-key-0123456789') }] },
        { name: 'bureau', apiKeys: [{ sha256: sha('bureau-key-0123456789') }] },
      ],
    },
    routes: [
      {
        name: 'accounts',
        match: { path: '/*' },
        upstream: 'app',
        stages: [
          { type: 'identity', methods: [{ apiKey: {} }] },
          { type: 'protect', actions: { US_SSN: 'redact' }, grants: [{ groups: ['banks'], actions: { CREDIT_CARD: 'allow', US_SSN: 'allow' } }] },
        ],
      },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const get = (path: string, key: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-api-key': key } });

  const bureau = (await (await get('/accounts/1', 'bureau-key-0123456789')).json()) as typeof record;
  t.equal(bureau.card, '**** **** **** 1111', 'card masked, last 4 kept, for the bureau');
  t.equal(bureau.ssn, '', 'SSN redacted (the configured action)');
  t.notMatch(bureau.note, /4111 1111 1111 1111/, 'a card inside free text is masked too');
  t.notMatch(bureau.email, /^ada@/, 'email masked: unlisted entities are masked unless granted');

  const bank = (await (await get('/accounts/1', 'bank-key-0123456789')).json()) as typeof record;
  t.equal(bank.card, CARD, 'the bank is granted the full card number');
  t.equal(bank.ssn, SSN, 'and the SSN');
  t.equal(upstream.seen.at(-1)!.headers['accept-encoding'], 'identity', 'upstream asked for an uncompressed answer');

  const gz = await get('/gz', 'bureau-key-0123456789');
  t.equal(gz.status, 502, 'a compressed answer that cannot be scanned is withheld');
  t.equal(((await gz.json()) as { code: string }).code, 'ZTG_RESPONSE_WITHHELD');

  const audit = await gw.waitForLog((l) => l.msg === 'protect: personal data handled' && l.consumer === 'bureau');
  t.match(audit.pii, { 'CREDIT_CARD:mask': 2, 'US_SSN:redact': 1 }, 'audit counts by detector and action');
  const logs = gw.output();
  t.notOk(logs.includes('4111 1111 1111 1111') || logs.includes('4111111111111111') || logs.includes(SSN), 'no PII value in the logs');
});
