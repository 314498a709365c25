import { createServer, type Server } from 'node:http';

/**
 * The bundled demo service behind the embedded config: it echoes what it
 * received, so a first `curl` shows what the gateway forwards (path,
 * X-Forwarded-*, X-Request-Id...).
 */
export function startDemoUpstream(host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      const body = JSON.stringify(
        { service: 'ztgate-demo-upstream', method: req.method, url: req.url, headers: req.headers, bodyBytes: size },
        null,
        2,
      );
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
