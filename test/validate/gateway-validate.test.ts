import t from 'tap';
import { freePort, rawRequest, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

t.test('validate stage through the gateway: each violation answered without reaching the upstream', async (t) => {
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      {
        name: 'orders',
        match: { path: '/orders/*' },
        upstream: 'app',
        public: true,
        stages: [
          {
            type: 'validate',
            methods: ['GET', 'POST'],
            contentTypes: ['application/json'],
            maxUrlBytes: 200,
            maxHeaders: 20,
            maxHeaderBytes: 2048,
            maxBodyBytes: 4096,
            json: { maxDepth: 4, maxKeys: 10, maxArrayLength: 20, maxStringLength: 64 },
            schema: {
              type: 'object',
              additionalProperties: false,
              required: ['customer', 'items'],
              properties: {
                customer: { type: 'string', minLength: 1 },
                note: { type: 'string' },
                items: {
                  type: 'array',
                  minItems: 1,
                  items: { type: 'object', required: ['sku', 'qty'], properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } } },
                },
              },
            },
          },
        ],
      },
      // Only checks that need no body: the request streams to the upstream.
      { name: 'files', match: { path: '/files/*' }, upstream: 'app', public: true, stages: [{ type: 'validate', methods: ['PUT'], contentTypes: ['application/octet-stream'], maxBodyBytes: 1000 }] },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const url = `http://127.0.0.1:${port}`;
  const SECRET = 'SECRET-MARKER';
  const post = (body: string, contentType = 'application/json') => fetch(`${url}/orders/new`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const order = { customer: "Seán O'Brien", note: 'leave at the door', items: [{ sku: 'LAMP-1', qty: 2 }] };

  // Each refusal: status, code, the limit named, problem+json, no payload echoed, upstream untouched, a log line.
  const refused = async (what: string, send: () => Promise<Response>, status: number, limit: string, code?: string) => {
    const seen = upstream.seen.length;
    const res = await send();
    t.equal(res.status, status, `${what}: ${status}`);
    t.match(res.headers.get('content-type'), /^application\/problem\+json/, `${what}: problem+json`);
    const text = await res.text();
    const problem = JSON.parse(text) as { code: string; limit: string; requestId: string };
    t.equal(problem.limit, limit, `${what}: names the limit`);
    if (code) t.equal(problem.code, code, `${what}: ${code}`);
    t.notMatch(text, SECRET, `${what}: the payload is not echoed`);
    t.equal(upstream.seen.length, seen, `${what}: the upstream was not reached`);
    const line = await gw.waitForLog((l) => l.reqId === problem.requestId && typeof l.reason === 'string');
    t.equal(line.status, status, `${what}: logged with a reason`);
    return { res, problem, line };
  };

  let seen = upstream.seen.length;
  let res = await post(JSON.stringify(order), 'application/json; charset=utf-8');
  t.equal(res.status, 200, 'a valid order passes (charset parameter ignored)');
  t.equal(upstream.seen.length, seen + 1);
  t.equal(upstream.seen.at(-1)!.body.toString(), JSON.stringify(order), 'the body reaches the upstream untouched');
  res = await fetch(`${url}/orders/17`);
  t.equal(res.status, 200, 'a GET without a body passes');

  const { res: r405 } = await refused('DELETE', () => fetch(`${url}/orders/17`, { method: 'DELETE' }), 405, 'methods', 'ZTG_METHOD_NOT_ALLOWED');
  t.equal(r405.headers.get('allow'), 'GET, POST', 'Allow lists the methods');
  await refused('long URL', () => fetch(`${url}/orders/17?q=${'a'.repeat(200)}`), 414, 'maxUrlBytes', 'ZTG_URI_TOO_LONG');
  await refused('many headers', () => fetch(`${url}/orders/17`, { headers: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`x-h${i}`, '1'])) }), 431, 'maxHeaders', 'ZTG_HEADERS_TOO_LARGE');
  await refused('large header', () => fetch(`${url}/orders/17`, { headers: { 'x-big': SECRET + 'x'.repeat(3000) } }), 431, 'maxHeaderBytes');
  await refused('form body', () => post(`customer=${SECRET}`, 'application/x-www-form-urlencoded'), 415, 'contentTypes', 'ZTG_UNSUPPORTED_MEDIA_TYPE');
  await refused('large body', () => post(JSON.stringify({ ...order, note: SECRET + 'x'.repeat(5000) })), 413, 'maxBodyBytes', 'ZTG_BODY_TOO_LARGE');
  await refused('deep nesting', () => post('['.repeat(2000) + ']'.repeat(2000)), 400, 'json.maxDepth', 'ZTG_BODY_INVALID');
  await refused('wide object', () => post(JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`${SECRET}${i}`, 1])))), 400, 'json.maxKeys');
  await refused('long array', () => post(JSON.stringify({ ...order, items: Array.from({ length: 21 }, () => ({ sku: 'A', qty: 1 })) })), 400, 'json.maxArrayLength');
  const { line } = await refused('long string', () => post(JSON.stringify({ ...order, note: SECRET + 'x'.repeat(64) })), 400, 'json.maxStringLength');
  t.match(line.reason, /string longer than 64 at byte \d+/, 'the log says what and where');
  t.notMatch(JSON.stringify(line), SECRET, 'the log does not echo the payload');
  await refused('malformed JSON', () => post(`{"customer": "${SECRET}",`), 400, 'json.syntax', 'ZTG_BODY_MALFORMED');
  const { problem } = await refused('schema', () => post(JSON.stringify({ customer: SECRET, items: [{ sku: 'A', qty: 0 }] })), 400, 'schema', 'ZTG_BODY_INVALID');
  t.match(problem, { keyword: 'minimum', schemaPath: '#/properties/items/items/properties/qty/minimum' });
  await refused('extra field', () => post(JSON.stringify({ ...order, [SECRET]: 1 })), 400, 'schema');

  // A route without body checks: Content-Length decides, nothing is buffered.
  seen = upstream.seen.length;
  res = await fetch(`${url}/files/a`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(1000) });
  t.equal(res.status, 200, 'an upload within the limit streams through');
  t.equal(upstream.seen.length, seen + 1);
  await refused('upload over the limit', () => fetch(`${url}/files/a`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(1001) }), 413, 'maxBodyBytes');
  await refused('upload of the wrong type', () => fetch(`${url}/files/a`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }), 415, 'contentTypes');

  // A chunked upload is collected and checked the same way.
  seen = upstream.seen.length;
  const deep = '['.repeat(10) + ']'.repeat(10);
  const chunked = await rawRequest(port, `POST /orders/new HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${deep.length.toString(16)}\r\n${deep}\r\n0\r\n\r\n`);
  t.equal(chunked.status, 400, 'chunked: refused');
  t.match(JSON.parse(chunked.body), { limit: 'json.maxDepth' });
  t.equal(upstream.seen.length, seen, 'chunked: the upstream was not reached');

  // The connection stays usable after a refused request whose body was read in full.
  const raw = await rawRequest(port, 'POST /orders/new HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]GET /orders/1 HTTP/1.1\r\nhost: x\r\n\r\n');
  t.match(raw.raw, /^HTTP\/1\.1 400 /, 'schema refusal');
  t.match(raw.raw, /HTTP\/1\.1 200 /, 'the next request on the connection is served');
});
