import t from 'tap';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { compactDecrypt } from 'jose';
import { freePort, rawRequest, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

const CARD = '4111 1111 1111 1111';
const SSN = '536-22-8726';
const EMAIL = 'ada@example.com';
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

t.test('protect stage: request bodies masked before the upstream, config detectors, encryption per recipient', async (t) => {
  const bank = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const record = { name: 'Ada', card: CARD, customer: { ssn: 'A-12', dob: '1990-01-02' }, emp: 'EMP-123456', password: 'hunter2', note: 'code swordfish' };
  const upstream = await startEchoUpstream((req, res, body) => {
    if (req.url!.startsWith('/records')) {
      const out = JSON.stringify(record);
      return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes: body.length }));
  });
  const port = await freePort();
  const protect = {
    type: 'protect',
    detectors: [
      { name: 'EMPLOYEE_ID', pattern: 'EMP-[0-9]{6}' },
      { name: 'CODEWORD', keywords: ['swordfish'] },
      { name: 'SECRET', fields: ['password', '$.customer.ssn', '$.customer.dob'] },
    ],
    actions: { CREDIT_CARD: { encrypt: 'bank' }, EMPLOYEE_ID: 'redact', SECRET: 'redact', CODEWORD: 'mask' },
    recipients: { bank: { jwk: { ...bank.publicKey.export({ format: 'jwk' }), kid: 'bank-1' } } },
    grants: [{ consumers: ['bank'], actions: { CREDIT_CARD: 'allow' } }],
    requests: { actions: { CREDIT_CARD: 'mask' } },
    maxScanBytes: 256 * 1024,
  };
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    identity: {
      consumers: [
        { name: 'bank', apiKeys: [{ sha256: sha('bank-key-0123456789') }] },
        { name: 'bureau', apiKeys: [{ sha256: sha('bureau-key-0123456789') }] },
      ],
    },
    routes: [
      { name: 'loose', match: { path: '/loose/*' }, upstream: 'app', public: true, stages: [{ ...protect, maxScanBytes: 1024, oversize: 'pass', actions: {}, grants: [], recipients: {} }] },
      { name: 'records', match: { path: '/*' }, upstream: 'app', stages: [{ type: 'identity', methods: [{ apiKey: {} }] }, protect] },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const url = `http://127.0.0.1:${port}`;
  const post = (path: string, body: string | Buffer, headers: Record<string, string>) =>
    fetch(url + path, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'x-api-key': 'bureau-key-0123456789', ...headers } });
  const lastSeen = () => upstream.seen.at(-1)!;
  const good = async (why: string) => {
    const r = await post('/submit', JSON.stringify({ card: CARD }), { 'content-type': 'application/json' });
    t.equal(r.status, 200, `${why}: a good request still works`);
    t.equal(JSON.parse(lastSeen().body.toString()).card, '**** **** **** 1111', `${why}: and is still masked`);
  };

  await t.test('hostile and odd request bodies: clear answers, nothing unscanned reaches the upstream', async (t) => {
    const before = upstream.seen.length;
    const gz = await post('/submit', gzipSync(JSON.stringify({ card: CARD })), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    t.equal(gz.status, 415, 'a compressed upload cannot be scanned: 415');
    t.equal(((await gz.json()) as { code: string }).code, 'ZTG_UNSUPPORTED_MEDIA_TYPE');
    await gw.waitForLog((l) => typeof l.reason === 'string' && l.reason.includes('content-encoding gzip cannot be scanned'));

    const big = JSON.stringify({ card: CARD, pad: 'x'.repeat(300 * 1024) });
    const over = await post('/submit', big, { 'content-type': 'application/json' });
    t.equal(over.status, 413, 'over the scanning limit: refused (fail closed, the default)');
    t.equal(((await over.json()) as { code: string }).code, 'ZTG_BODY_TOO_LARGE');
    t.equal(upstream.seen.length, before, 'neither reached the upstream');

    const broken = await post('/submit', `{"card": "${CARD}", oops`, { 'content-type': 'application/json' });
    t.equal(broken.status, 200, 'JSON that does not parse is scanned as text');
    t.equal(lastSeen().body.toString(), '{"card": "**** **** **** 1111", oops');

    const bin = Buffer.from(`\u0000\u0001${CARD}`);
    await post('/submit', bin, { 'content-type': 'application/octet-stream' });
    t.same(lastSeen().body, bin, 'binary content types are skipped');

    const passed = await post('/loose/x', JSON.stringify({ card: CARD, pad: 'x'.repeat(2000) }), { 'content-type': 'application/json' });
    t.equal(passed.status, 200, 'oversize: pass lets it through');
    t.match(lastSeen().body.toString(), CARD, 'unscanned, as configured');
    await gw.waitForLog((l) => l.msg === 'protect: body over the scan limit passed unscanned' && l.direction === 'request' && l.route === 'loose');
    await good('after the hostile inputs');
  });

  await t.test('JSON, form and text uploads are masked; Content-Length is the new length', async (t) => {
    await post('/submit', JSON.stringify({ card: CARD, mail: EMAIL, emp: 'EMP-123456', customer: { ssn: SSN } }), { 'content-type': 'application/json' });
    const seen = lastSeen();
    const body = JSON.parse(seen.body.toString());
    t.equal(body.card, '**** **** **** 1111', 'the request action (mask) for cards');
    t.notMatch(body.mail, /ada|example/, 'built-in entities: mask unless configured');
    t.equal(body.emp, '', 'pattern detector, redacted');
    t.equal(body.customer.ssn, '', 'field path, redacted');
    t.equal(Number(seen.headers['content-length']), seen.body.length, 'Content-Length matches the rewritten body');

    await post('/submit', `card=${CARD.replace(/ /g, '+')}&password=hunter2&mail=ada%40example.com`, { 'content-type': 'application/x-www-form-urlencoded' });
    const form = new URLSearchParams(lastSeen().body.toString());
    t.equal(form.get('card'), '**** **** **** 1111');
    t.equal(form.get('password'), '', 'form field by name');
    t.notMatch(form.get('mail'), /ada|example/);

    await post('/submit', `<p>call me, card ${CARD}, ssn ${SSN}</p>`, { 'content-type': 'text/html' });
    t.equal(lastSeen().body.toString(), '<p>call me, card **** **** **** 1111, ssn ***-**-8726</p>', 'HTML is scanned as text');
  });

  await t.test('a chunked upload with a card split across chunks is masked whole', async (t) => {
    const payload = JSON.stringify({ card: CARD });
    const cut = payload.indexOf('1111') + 2;
    const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    const head = `POST /submit HTTP/1.1\r\nhost: x\r\nx-api-key: bureau-key-0123456789\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`;
    const r = await rawRequest(port, head + chunk(payload.slice(0, cut)) + chunk(payload.slice(cut)) + '0\r\n\r\n');
    t.equal(r.status, 200);
    const seen = lastSeen();
    t.equal(JSON.parse(seen.body.toString()).card, '**** **** **** 1111');
    t.equal(Number(seen.headers['content-length']), seen.body.length, 'sent with a Content-Length');
    t.notOk(seen.headers['transfer-encoding'], 'not chunked any more');
  });

  await t.test('bodies over 16 KiB are scanned in the worker pool', async (t) => {
    const items = Array.from({ length: 600 }, (_, i) => ({ i, card: CARD, mail: `user${i}@example.com`, filler: 'lorem ipsum dolor sit amet' }));
    const r = await post('/submit', JSON.stringify({ items }), { 'content-type': 'application/json' });
    t.equal(r.status, 200);
    const seen = JSON.parse(lastSeen().body.toString()) as { items: typeof items };
    t.equal(seen.items.length, 600);
    t.ok(seen.items.every((x) => x.card === '**** **** **** 1111' && !x.mail.includes('user')), 'every value masked');
  });

  await t.test('responses: config detectors, and a card encrypted for the bank (only its key opens it)', async (t) => {
    const bureau = (await (await fetch(`${url}/records/1`, { headers: { 'x-api-key': 'bureau-key-0123456789' } })).json()) as typeof record;
    t.equal(bureau.emp, '');
    t.equal(bureau.password, '');
    t.same(bureau.customer, { ssn: '', dob: '' });
    t.equal(bureau.note, 'code *****fish', 'keyword detector, masked');
    t.equal(bureau.card.split('.').length, 5, 'the bureau gets a compact JWE');
    const { plaintext, protectedHeader } = await compactDecrypt(bureau.card, bank.privateKey);
    t.equal(new TextDecoder().decode(plaintext), CARD, 'the bank’s private key opens it');
    t.equal(protectedHeader.kid, 'bank-1');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await t.rejects(compactDecrypt(bureau.card, other.privateKey), 'no other key does');

    const asBank = (await (await fetch(`${url}/records/1`, { headers: { 'x-api-key': 'bank-key-0123456789' } })).json()) as typeof record;
    t.equal(asBank.card, CARD, 'the bank is granted the plain number');
    const audit = await gw.waitForLog((l) => l.msg === 'protect: personal data handled' && l.direction === 'response' && l.consumer === 'bureau');
    t.match(audit.pii, { 'CREDIT_CARD:encrypt': 1, 'EMPLOYEE_ID:redact': 1, 'SECRET:redact': 3 });
  });

  t.notOk(gw.output().includes('hunter2') || gw.output().includes(CARD) || gw.output().includes('EMP-123456'), 'no PII value in the logs');
});
