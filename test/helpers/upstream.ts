import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';

export interface EchoUpstream {
  port: number;
  server: Server;
  /** Requests seen, in order: method, url, headers, body. */
  seen: { method: string; url: string; headers: IncomingMessage['headers']; rawHeaders: string[]; body: Buffer }[];
  close(): Promise<void>;
}

/** A real HTTP upstream (node:http) that records each request and answers via `respond` (default: JSON echo). */
export async function startEchoUpstream(
  respond?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): Promise<EchoUpstream> {
  const seen: EchoUpstream['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body });
      if (respond) return respond(req, res, body);
      const out = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyBytes: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
