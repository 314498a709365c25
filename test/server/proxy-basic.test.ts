import t from 'tap';
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
  t.equal(body.headers.host, `127.0.0.1:${upstream.port}`, 'Host is the target unless preserveHost');
});
