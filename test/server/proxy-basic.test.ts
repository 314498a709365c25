import t from 'tap';
import { request } from 'node:http';
import { basicConfig, freePort, rawRequest, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

t.test('forwards a request and its answer, with forwarding headers', async (t) => {
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const gw = await startGateway(basicConfig(port, upstream.port));
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const res = await rawRequest(
    gw.port,
    'GET /orders/42?x=1 HTTP/1.1\r\nHost: shop.test\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: keep-alive, x-secret\r\nX-Secret: s\r\n\r\n',
  );
  t.equal(res.status, 200);
  const body = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
  t.equal(body.url, '/orders/42?x=1');
  t.equal(body.headers['x-forwarded-for'], '127.0.0.1', 'untrusted inbound XFF replaced by the peer');
  t.equal(body.headers['x-forwarded-proto'], 'http');
  t.notOk(body.headers['x-secret'], 'header named in Connection is hop-by-hop');
  t.match(body.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  t.equal(res.headers['x-request-id'], body.headers['x-request-id'], 'same id to the client');
  t.equal(body.headers['x-forwarded-host'], 'shop.test');
  t.equal(body.headers.forwarded, 'for=127.0.0.1;proto=http;host="shop.test"', 'Forwarded (RFC 7239) for an IPv4 peer: bare address');
  t.equal(body.headers.host, `127.0.0.1:${upstream.port}`, 'Host is the target unless preserveHost');
});

t.test('Forwarded quotes an IPv6 peer in brackets; a Host that would break its quotes is refused', async (t) => {
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const config = basicConfig(port, upstream.port);
  config.listeners = [{ name: 'main', host: '::1', port, segment: 'external' }];
  const gw = await startGateway(config);
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const get = (host: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '::1', port, path: '/v6', headers: { host } }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  // A Host that could break out of Forwarded's quotes is not a host at all: refused at the intake.
  t.equal((await get('we"ird\\.test')).status, 400, 'quotes and backslashes in Host: 400');
  const res = await get('[::1]:8080');
  t.equal(res.status, 200);
  const headers = (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
  const peer = headers['x-forwarded-for'];
  t.match(peer, /^[0-9a-f:]+$/, 'the peer is an IPv6 address');
  t.equal(headers.forwarded, `for="[${peer}]";proto=http;host="[::1]:8080"`, 'IPv6 node in a quoted, bracketed form');
  t.equal(headers['x-forwarded-host'], '[::1]:8080', 'X-Forwarded-Host carries the Host as sent');
  // The gateway keeps serving an ordinary request on the same listener.
  t.equal((await get('shop.test')).status, 200);
});
