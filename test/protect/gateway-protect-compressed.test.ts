import t from 'tap';
import { brotliCompressSync, deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { freePort, rawRequest, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

const CARD = '4111 1111 1111 1111';
const json = JSON.stringify({ card: CARD, note: `paid with ${CARD}` });
const encoders: Record<string, (b: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };

t.test('protect stage: compressed answers decoded (capped), scanned, sent plain or encoded again', async (t) => {
  const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024)); // 16 MiB of zeros in ~16 KB
  const upstream = await startEchoUpstream((req, res) => {
    const parts = req.url!.split('/');
    const kind = parts[1];
    const enc = parts.at(-1)!;
    const send = (body: Buffer, encoding: string, type = 'application/json') =>
      void res.writeHead(200, { 'content-type': type, 'content-encoding': encoding, 'content-length': body.length }).end(body);
    if (kind === 'bomb') return send(bomb, 'gzip');
    if (kind === 'corrupt') return send(Buffer.from('not gzip at all'), 'gzip');
    if (kind === 'zstd') return send(Buffer.from('(\xb5/\xfd'), 'zstd');
    if (kind === 'split') {
      // the card crosses two writes, a moment apart, in a chunked answer
      const cut = json.indexOf('1111') + 2;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(json.slice(0, cut));
      return void setTimeout(() => res.end(json.slice(cut)), 50);
    }
    if (kind === 'plain') return void res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    send(encoders[enc]!(Buffer.from(json)), enc);
  });
  const port = await freePort();
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      { name: 'plain-only', match: { path: '/strict/*' }, upstream: 'app', public: true, stages: [{ type: 'protect' }] },
      { name: 'decoding', match: { path: '/*' }, upstream: 'app', public: true, stages: [{ type: 'protect', compressed: 'decompress', maxScanBytes: 1024 * 1024 }] },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const get = (path: string, acceptEncoding?: string) =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nhost: x\r\n${acceptEncoding ? `accept-encoding: ${acceptEncoding}\r\n` : ''}connection: close\r\n\r\n`, 1500);
  const code = (r: { body: string }) => (JSON.parse(r.body) as { code: string }).code;

  await t.test('hostile answers are withheld with a clear code, and the gateway keeps serving', async (t) => {
    const bomb = await get('/bomb/x');
    t.equal(bomb.status, 502, 'a zip bomb is cut at the cap');
    t.equal(code(bomb), 'ZTG_DECOMPRESSION_LIMIT');
    await gw.waitForLog((l) => l.code === 'ZTG_DECOMPRESSION_LIMIT' && typeof l.reason === 'string' && l.reason.includes('expands beyond'));
    const corrupt = await get('/corrupt/x');
    t.equal(corrupt.status, 502, 'a body that does not decode');
    t.equal(code(corrupt), 'ZTG_RESPONSE_WITHHELD');
    const zstd = await get('/zstd/x');
    t.equal(zstd.status, 502, 'an encoding the gateway cannot decode');
    t.equal(code(zstd), 'ZTG_RESPONSE_WITHHELD');
    const strict = await get('/strict/gzip');
    t.equal(strict.status, 502, 'a route left at identity withholds a compressed answer');
    t.equal(code(strict), 'ZTG_RESPONSE_WITHHELD');
    t.equal(upstream.seen.at(-1)!.headers['accept-encoding'], 'identity', 'that route asked for identity');
    const ok = await get('/plain/x');
    t.equal(ok.status, 200, 'a good request still works');
    t.equal(JSON.parse(ok.body).card, '**** **** **** 1111');
  });

  for (const enc of ['gzip', 'deflate', 'br']) {
    await t.test(`${enc}: masked, encoded again for a client that accepts it, plain otherwise`, async (t) => {
      const again = await get(`/c/${enc}`, `${enc}, identity;q=0.5`);
      t.equal(again.status, 200);
      t.equal(upstream.seen.at(-1)!.headers['accept-encoding'], 'gzip, deflate, br', 'the upstream is offered what the gateway decodes');
      t.equal(again.headers['content-encoding'], enc);
      const raw = Buffer.from(again.body, 'latin1');
      t.equal(Number(again.headers['content-length']), raw.length, 'Content-Length is the encoded length');
      const decoded = enc === 'gzip' ? gunzipSync(raw) : enc === 'deflate' ? (await import('node:zlib')).inflateSync(raw) : (await import('node:zlib')).brotliDecompressSync(raw);
      t.same(JSON.parse(decoded.toString()), { card: '**** **** **** 1111', note: 'paid with **** **** **** 1111' });

      const plain = await get(`/c/${enc}`);
      t.notOk(plain.headers['content-encoding'], 'a client that did not ask for it gets it plain');
      t.equal(Number(plain.headers['content-length']), Buffer.byteLength(plain.body, 'latin1'));
      t.equal(JSON.parse(plain.body).card, '**** **** **** 1111');
    });
  }

  await t.test('a card split across upstream chunks is masked whole (the collected body is scanned)', async (t) => {
    const r = await get('/split/x');
    t.equal(r.status, 200);
    t.same(JSON.parse(r.body), { card: '**** **** **** 1111', note: 'paid with **** **** **** 1111' });
    t.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body, 'latin1'));
  });

  t.notOk(gw.output().includes(CARD), 'no card number in the logs');
});
