/**
 * Request bodies without a length (Transfer-Encoding: chunked) through a real
 * gateway process: any chunking arrives upstream byte-identical and freshly
 * re-chunked (the gateway writes its own framing, never the client's), and
 * broken chunk framing is refused with 400 by uWS and the connection closed,
 * with nothing complete reaching the upstream.
 *
 * Pinned uWS 6.0.1 leniencies (see README "WebSockets and protocol details"):
 * a bare LF ends a size line, and the two bytes after chunk data are skipped
 * whatever they are. Both decode to one body that the upstream receives, so
 * the gateway and its upstream never disagree on where a request ends.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { once } from 'node:events';
import { basicConfig, freePort, rawRequest, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A chunked encoding of `body` in the given chunk sizes (cycled). */
function chunked(body: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0, i = 0; off < body.length; i++) {
    const n = Math.min(sizes[i % sizes.length], body.length - off);
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(off, off + n), Buffer.from('\r\n'));
    off += n;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Writes `parts` one by one (separate TCP writes, with a turn between), returns the response. */
async function sendInPieces(port: number, parts: Buffer[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let out = '';
  socket.on('data', (c) => (out += c.toString('latin1')));
  for (const p of parts) {
    socket.write(p);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise<void>((resolve) => {
    const check = () => (/\r\n\r\n[\s\S]*\}$/.test(out) ? resolve() : setTimeout(check, 20));
    check();
  });
  socket.destroy();
  return out;
}

t.test('chunked uploads', async (t) => {
  const upstream = await startEchoUpstream((req, res, body) => {
    const out = JSON.stringify({ te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null, sha: sha(body), bytes: body.length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
  const port = await freePort();
  const gw = await startGateway(basicConfig(port, upstream.port));
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const head = 'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n';

  await t.test('any chunking arrives upstream intact and re-chunked', async (t) => {
    const body = randomBytes(300 * 1024);
    for (const [name, sizes] of [
      ['one chunk', [body.length]],
      ['1-byte chunks then large', [1, 1, 1, 65_536]],
      ['odd sizes', [7, 4096, 33, 100_000, 1]],
    ] as const) {
      const r = await sendInPieces(port, [Buffer.from(head), chunked(body, [...sizes])]);
      const answer = JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)) as { te: string; cl: string | null; sha: string; bytes: number };
      t.match(r, /^HTTP\/1\.1 200 /, `${name}: 200`);
      t.equal(answer.sha, sha(body), `${name}: body byte-identical upstream`);
      t.equal(answer.te, 'chunked', `${name}: sent upstream chunked (no length known up front)`);
      t.equal(answer.cl, null, `${name}: no Content-Length invented`);
    }
  });

  await t.test('a body split across TCP writes mid-chunk arrives intact', async (t) => {
    const body = randomBytes(20_000);
    const wire = chunked(body, [5000]);
    const pieces: Buffer[] = [Buffer.from(head)];
    for (let off = 0; off < wire.length; off += 777) pieces.push(wire.subarray(off, off + 777));
    const r = await sendInPieces(port, pieces);
    t.equal(JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)).sha, sha(body));
  });

  await t.test('an empty chunked body', async (t) => {
    const r = await sendInPieces(port, [Buffer.from(head + '0\r\n\r\n')]);
    t.match(JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)), { bytes: 0, te: 'chunked' });
  });

  await t.test('broken chunk framing: 400, connection closed, no complete request upstream', async (t) => {
    const cases = [
      ['chunk size not hex', 'zz\r\nhello\r\n0\r\n\r\n'],
      ['bad size after a good chunk', '5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n'],
      ['size overflows', 'ffffffffffffffffff\r\nhello\r\n0\r\n\r\n'],
      ['signed size', '+5\r\nhello\r\n0\r\n\r\n'],
      ['negative size', '-5\r\nhello\r\n0\r\n\r\n'],
      ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
      ['extension on the last chunk', '5\r\nhello\r\n0;x=y\r\n\r\n'],
    ] as const;
    for (const [name, body] of cases) {
      const before = upstream.seen.length;
      const r = await rawRequest(port, head + body);
      t.equal(r.status, 400, `${name}: 400`);
      t.ok(r.closed, `${name}: closed`);
      t.equal(upstream.seen.length, before, `${name}: the upstream never got a complete request`);
    }
    // uWS answers these itself; the gateway sees the client go away mid-upload: its access line has status 0.
    await gw.waitForLog((l) => l.msg === 'access' && l.status === 0 && l.method === 'POST');
  });

  await t.test('uWS leniencies decode to one body, and the upstream gets exactly that body', async (t) => {
    const cases = [
      ['bare LF line ends', '5\nhello\n0\n\n', 'hello'],
      ['junk instead of CRLF after data', '5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n', 'helloabc'],
    ] as const;
    for (const [name, body, decoded] of cases) {
      const r = await sendInPieces(port, [Buffer.from(head + body)]);
      t.match(r, /^HTTP\/1\.1 200 /, `${name}: accepted`);
      t.equal(JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)).sha, sha(Buffer.from(decoded)), `${name}: the upstream got "${decoded}", re-chunked`);
    }
  });

  await t.test('the gateway still serves', async (t) => {
    const r = await sendInPieces(port, [Buffer.from(head + '3\r\nabc\r\n0\r\n\r\n')]);
    t.match(r, /^HTTP\/1\.1 200 /);
  });
});
