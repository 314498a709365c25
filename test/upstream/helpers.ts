/** Helpers shared by the upstream resilience tests (real gateway, real sockets). */
import type { Test } from 'tap';
import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { RunningGateway } from '../helpers/gateway.js';

export interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection (no agent), body collected. */
export function send(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.end(options.body);
  });
}

/** A problem+json answer with `code`, and the gateway's log line for that request id with the same code. */
export async function assertProblem(t: Test, gw: RunningGateway, res: ClientResponse, status: number, code: string): Promise<Record<string, unknown>> {
  t.equal(res.status, status, `status ${status}`);
  t.match(String(res.headers['content-type']), /^application\/problem\+json/, 'problem content type');
  const problem = JSON.parse(res.body) as { code: string; requestId: string };
  t.equal(problem.code, code, `code ${code}`);
  t.notMatch(res.body, /127\.0\.0\.1|ECONN|certificate/i, 'no internal detail in the answer');
  const id = res.headers['x-request-id'];
  return gw.waitForLog((l) => l.reqId === id && l.code === code, 5000);
}

/** Polls `fn` until it returns true (a liveness wait, not a timing assertion). */
export async function until(fn: () => Promise<boolean> | boolean, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${limitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RawServer {
  port: number;
  server: Server;
  /** Request heads received (one per request). */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A raw TCP upstream: on each request head, `onRequest` answers by hand
 * (write a response, reset, or nothing at all to hang). Request bodies are not
 * expected (GETs) except where `onRequest` reads them.
 */
export async function rawServer(onRequest: (socket: Socket, head: string, n: number) => void, port = 0): Promise<RawServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.slice(end + 4 + length);
        requests.push(head);
        onRequest(socket, head, requests.length);
      }
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function answer(socket: Socket, status: number, body: string): void {
  socket.write(`HTTP/1.1 ${status} X\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
