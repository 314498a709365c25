import t from 'tap';
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket, type ConnectionOptions } from 'node:tls';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { makeTestPki } from '../helpers/pki.js';

const pki = makeTestPki(['api.test', 'other.test']);

/** One HTTPS request over a raw TLS socket; resolves with the peer cert CN and the response text. */
function tlsGet(port: number, options: ConnectionOptions, path = '/'): Promise<{ cn: string; response: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: readFileSync(pki.caCert), ...options }, () => {
      const cn = String(socket.getPeerCertificate().subject?.CN ?? '');
      const protocol = socket.getProtocol();
      let response = '';
      socket.on('data', (c) => {
        response += c.toString();
        if (/\r\n\r\n[\s\S]*\}$/.test(response) || response.includes('Content-Length: 0\r\n\r\n')) socket.end();
      });
      socket.on('end', () => resolve({ cn, response, protocol }));
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${options.servername ?? 'api.test'}\r\n\r\n`);
    });
    socket.on('error', reject);
  });
}

t.test('HTTPS listener: SNI picks the certificate, TLS 1.2+ only, mTLS rejects untrusted clients', async (t) => {
  const upstream = await startEchoUpstream();
  const [httpsPort, mtlsPort] = [await freePort(), await freePort()];
  const gw = await startGateway({
    listeners: [
      {
        name: 'public',
        host: '127.0.0.1',
        port: httpsPort,
        tls: {
          certificates: [
            { cert: pki.server['api.test'].cert, key: pki.server['api.test'].key },
            { cert: pki.server['other.test'].cert, key: pki.server['other.test'].key, serverNames: ['other.test'] },
          ],
        },
      },
      {
        name: 'partners',
        host: '127.0.0.1',
        port: mtlsPort,
        segment: 'partner',
        tls: { certificates: [{ cert: pki.server['api.test'].cert, key: pki.server['api.test'].key }], clientCa: pki.clientCa },
      },
    ],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [{ name: 'all', match: { path: '/*' }, upstream: 'app', public: true }],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });

  const main = await tlsGet(httpsPort, { servername: 'api.test' }, '/hello');
  t.equal(main.cn, 'api.test', 'default certificate');
  t.match(main.response, /^HTTP\/1\.1 200 OK/);
  t.match(main.response, /"x-forwarded-proto":"https"/, 'upstream told the client used https');

  const other = await tlsGet(httpsPort, { servername: 'other.test' }, '/hello');
  t.equal(other.cn, 'other.test', 'SNI selects the second certificate');
  t.match(other.response, /^HTTP\/1\.1 200 OK/, 'SNI host is routed too');

  await t.rejects(tlsGet(httpsPort, { servername: 'api.test', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }), 'TLS 1.1 refused');

  const withCert = await tlsGet(mtlsPort, { servername: 'api.test', cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) });
  t.match(withCert.response, /^HTTP\/1\.1 200 OK/, 'trusted client certificate accepted');

  const rogue = tlsGet(mtlsPort, { servername: 'api.test', cert: readFileSync(pki.rogueClient.cert), key: readFileSync(pki.rogueClient.key) });
  await t.rejects(rogue, 'certificate from an untrusted CA refused in the handshake');

  const after = await tlsGet(httpsPort, { servername: 'api.test' });
  t.match(after.response, /^HTTP\/1\.1 200 OK/, 'still serving');
});
