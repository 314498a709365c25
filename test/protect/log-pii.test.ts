import t from 'tap';
import { freePort, rawRequest, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

// The test PII: none of these may appear anywhere in the gateway's output.
const PII = {
  card: '4111111111111111',
  cardDashed: '4111-1111-1111-1111',
  ssn: '536-22-8726',
  email: 'ada.lovelace@example.com',
  iban: 'DE89370400440532013000',
  phone: '+1 415 555 0132',
};

t.test('no test PII value appears in the gateway logs, whatever the request carried and however it ended', async (t) => {
  const upstream = await startEchoUpstream((req, res, body) => {
    // the upstream echoes what it got, PII included: the protect route must mask it on the way back
    const out = JSON.stringify({ url: req.url, body: body.toString(), card: PII.card });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
  });
  const port = await freePort();
  const dead = await freePort();
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [
      { name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] },
      { name: 'down', targets: [{ url: `http://127.0.0.1:${dead}` }], timeouts: { connectMs: 300 } },
    ],
    routes: [
      { name: 'validated', match: { path: '/validated/*' }, upstream: 'app', public: true, stages: [{ type: 'validate', maxBodyBytes: 64, schema: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } } }] },
      { name: 'inspected', match: { path: '/inspected/*' }, upstream: 'app', public: true, stages: [{ type: 'inspect' }] },
      { name: 'down', match: { path: '/down/*' }, upstream: 'down', public: true },
      { name: 'protected', match: { path: '/*' }, upstream: 'app', public: true, stages: [{ type: 'protect', requests: {}, maxScanBytes: 4096 }] },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const url = `http://127.0.0.1:${port}`;
  const q = `ssn=${PII.ssn}&mail=${encodeURIComponent(PII.email)}&iban=${PII.iban}`;
  const headers = { 'x-card': PII.cardDashed, 'x-phone': PII.phone, cookie: `card=${PII.card}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ card: PII.card, mail: PII.email, iban: PII.iban, phone: PII.phone, ssn: PII.ssn });
  const statuses: number[] = [];
  const send = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(url + path, { headers, ...init });
    await r.arrayBuffer();
    statuses.push(r.status);
  };

  await send(`/cards/${PII.card}?${q}`); // 200, path in the access log
  await send(`/cards/${PII.cardDashed}/${PII.email}?${q}`, { method: 'POST', body });
  await send(`/validated/${PII.card}?${q}`, { method: 'POST', body }); // 413 (64 bytes)
  await send(`/validated/${PII.ssn}`, { method: 'POST', body: JSON.stringify({ id: PII.card }) }); // 400 schema
  await send(`/validated/x`, { method: 'POST', body: `{"id": ${PII.card}, "mail": "${PII.email}"` }); // 400 malformed
  await send(`/inspected/${PII.card}?${q}&x=' OR 1=1 --`, { method: 'POST', body: JSON.stringify({ q: `' UNION SELECT ${PII.card}, '${PII.email}' --` }) }); // 403
  await send(`/down/${PII.card}?${q}`); // 502/504
  await send(`/big/${PII.card}`, { method: 'POST', body: JSON.stringify({ card: PII.card, pad: 'x'.repeat(8000) }) }); // 413 over the scan limit
  const bad = await rawRequest(port, `GET /x/${PII.card}/%2F${PII.ssn} HTTP/1.1\r\nhost: x\r\nx-card: ${PII.card}\r\n\r\n`); // 400 bad path
  statuses.push(bad.status);
  const framing = await rawRequest(port, `POST /x/${PII.card} HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n${PII.ssn}`); // 400 framing
  statuses.push(framing.status);
  const aborted = await rawRequest(port, `POST /x/${PII.card} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"card":"${PII.card}"`, 200); // client gives up
  statuses.push(aborted.status);

  t.same(statuses.slice(0, 8), [200, 200, 413, 400, 400, 403, statuses[6], 413], 'the requests ended as intended');
  t.ok(statuses[6]! >= 502, 'the dead upstream: 502/504');
  t.equal(statuses[8], 400, 'bad path');
  t.equal(statuses[9], 400, 'bad framing');

  const good = await fetch(`${url}/ok`);
  t.equal(good.status, 200, 'the gateway still serves');
  t.notMatch(await good.text(), PII.card, 'and masks the echoed card');
  // the last request's access log line is written, so everything before it is too
  await gw.waitForLog((l) => l.path === '/ok' || (typeof l.msg === 'string' && l.msg.includes('/ok')), 5000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  const out = gw.output();
  t.ok(out.length > 0 && gw.logs().length >= 10, 'the gateway logged these requests');
  t.match(out, /\[CREDIT_CARD\]/, 'lines that held a card kept their place, the value replaced by its entity name');
  if (process.env.ZTGATE_TEST_SHOW_LOGS) console.error(out);
  for (const [name, value] of Object.entries(PII)) {
    t.notOk(out.includes(value), `${name} (${value.slice(0, 4)}…) not in the logs`);
  }
  t.notOk(out.includes(encodeURIComponent(PII.email)), 'nor the encoded email');
  t.notOk(out.includes('4111 1111 1111 1111'), 'nor the card with spaces');
});
