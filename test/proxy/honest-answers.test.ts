/**
 * Answers that tell the truth: while no byte of the answer has left, an
 * upstream failure is a 502/504 problem answer, never a cut head; once bytes
 * have left the connection is cut, and the access line and a metric say so.
 */
import t from 'tap';
import { request, type IncomingHttpHeaders } from 'node:http';
import { freePort } from '../helpers/gateway.js';
import { scriptedUpstream } from '../helpers/scripted-upstream.js';
import { startAdminGateway, until } from '../admin/helpers.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  complete: boolean;
}

function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      let failed = false;
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('error', () => (failed = true));
      res.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, body, complete: res.complete && !failed }));
    });
    req.on('error', reject);
    req.end();
  });
}

const SCRIPTS: Record<string, string> = {
  // A head with a length, then nothing.
  headSilent: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n',
  // A chunked head, then nothing.
  chunkedSilent: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n',
  // A chunked head, then a chunk size that is not hex.
  badChunk: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n',
};
const up = await scriptedUpstream((req, s) => {
  const name = req.target.split('/')[2];
  if (name === 'cutAfterBytes') {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
    setTimeout(() => s.destroy(), 50);
    return;
  }
  if (name === 'emptyChunked') return void s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  s.write(SCRIPTS[name]);
});

const port = await freePort();
const admin = await startAdminGateway({
  listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
  upstreams: [{ name: 'up', targets: [{ url: `http://127.0.0.1:${up.port}` }], timeouts: { connectMs: 1000, firstByteMs: 1000, idleMs: 700 } }],
  routes: [{ name: 'r', match: { path: '/r/*' }, upstream: 'up', public: true }],
});
const gw = admin.gw;
t.teardown(async () => {
  await gw.stop();
  await up.close();
});

const accessOf = (path: string) => gw.waitForLog((l) => l.access === true && l.path === path);

for (const [name, status, code] of [
  ['headSilent', 504, 'ZTG_UPSTREAM_TIMEOUT'],
  ['chunkedSilent', 504, 'ZTG_UPSTREAM_TIMEOUT'],
  ['badChunk', 502, 'ZTG_UPSTREAM_BAD_RESPONSE'],
] as const) {
  t.test(`${name}: no byte had left → ${status} problem+json, not a cut head`, async (t) => {
    const res = await get(port, `/r/${name}`);
    t.equal(res.status, status);
    t.equal(res.headers['content-type'], 'application/problem+json');
    t.ok(res.complete, 'a complete answer');
    t.equal(JSON.parse(res.body).code, code);
    const line = await accessOf(`/r/${name}`);
    t.equal(line.status, status, 'the access line has what the client got');
    t.notOk('cut' in line, 'not a cut answer');
  });
}

t.test('an empty chunked answer still gets its head and end', async (t) => {
  const res = await get(port, '/r/emptyChunked');
  t.equal(res.status, 200);
  t.equal(res.body, '');
  t.ok(res.complete);
});

t.test('bytes had left → connection cut; the access line says cut, a metric counts it', async (t) => {
  const res = await get(port, '/r/cutAfterBytes');
  t.equal(res.status, 200, 'the head had left');
  t.notOk(res.complete, 'the client can tell it is incomplete');
  const line = await accessOf('/r/cutAfterBytes');
  t.equal(line.status, 200, 'the status the client got');
  t.equal(line.cut, 'ZTG_UPSTREAM_RESET', 'and why it was cut');
  const metrics = await until(
    () => admin.call('/metrics'),
    (r) => /ztgate_responses_cut_total\{[^}]*reason="ZTG_UPSTREAM_RESET"[^}]*\} 1/.test(r.body),
  );
  t.match(metrics.body, /ztgate_responses_cut_total\{[^}]*route="r"[^}]*\} 1/, 'counted once, by route and reason');
});
