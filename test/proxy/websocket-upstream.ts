/**
 * WebSocket test fixtures: a real upstream (node:http + ws) whose behaviour
 * is chosen by path, and a client helper that resolves to the open socket or
 * to the refusal the gateway answered with.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export interface SeenHandshake {
  path: string;
  headers: IncomingHttpHeaders;
}

/** One upstream session, as the upstream saw it end. */
export interface UpstreamSession {
  path: string;
  socket: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
}

export interface WsUpstream {
  port: number;
  handshakes: SeenHandshake[];
  sessions: UpstreamSession[];
  /** Plain HTTP requests seen (method path). */
  http: string[];
  /** Resolves with the next session opened on `path`. */
  nextSession(path: string): Promise<UpstreamSession>;
  close(): Promise<void>;
}

/**
 * Paths: /…/echo echoes (keeping the message type), /…/refuse404 and /…/refuse500
 * answer the handshake with that status, anything else opens and does nothing
 * (the test drives the socket through nextSession). Subprotocol: the last offered.
 */
export async function startWsUpstream(): Promise<WsUpstream> {
  const handshakes: SeenHandshake[] = [];
  const sessions: UpstreamSession[] = [];
  const http: string[] = [];
  const waiting: { path: string; resolve: (s: UpstreamSession) => void }[] = [];
  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 * 1024, handleProtocols: (p) => [...p].at(-1) ?? false });
  const server = createServer((req, res) => {
    http.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ plain: true, url: req.url })));
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = req.url ?? '';
    handshakes.push({ path, headers: req.headers });
    const refuse = /refuse(\d{3})/.exec(path);
    if (refuse) {
      socket.end(`HTTP/1.1 ${refuse[1]} Nope\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      ws.on('error', () => {});
      const session = { path, socket: ws, closed };
      sessions.push(session);
      if (path.split('?')[0].endsWith('/echo')) ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      const i = waiting.findIndex((w) => path.startsWith(w.path));
      if (i >= 0) waiting.splice(i, 1)[0].resolve(session);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    handshakes,
    sessions,
    http,
    nextSession: (path) => new Promise((resolve) => waiting.push({ path, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export type Opened = { ok: true; ws: WebSocket } | { ok: false; status: number; headers: IncomingHttpHeaders; body: string };

/** Opens a client WebSocket through the gateway; a refused handshake resolves with its status and body. */
export function openWs(url: string, options: { protocols?: string[]; headers?: Record<string, string>; tls?: { ca: Buffer; servername: string } } = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024, ...options.tls });
    ws.once('open', () => resolve({ ok: true, ws }));
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ ok: false, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
        req.destroy();
      });
    });
    ws.once('error', reject);
    // A destroyed handshake may report late errors; the outcome is already settled.
    ws.on('error', () => {});
  });
}

/** Resolves with the close code and reason a socket ends with. */
export function closedWith(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve({ code: -1, reason: 'already closed' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** The next message on a socket, with its type. */
export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, binary) => resolve({ data: data as Buffer, binary })));
}
