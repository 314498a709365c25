import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  target: string;
  /** 1-based index of the upstream connection it came on. */
  conn: number;
  /** 1-based index of the request on its connection. */
  seq: number;
}

export interface ScriptedUpstream {
  port: number;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A raw TCP upstream that reads request heads on keep-alive connections
 * (Content-Length bodies skipped) and lets `script` answer each by hand.
 */
export async function scriptedUpstream(script: (req: SeenRequest, socket: Socket) => void): Promise<ScriptedUpstream> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    const conn = ++connections;
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    let seq = 0;
    let skip = 0;
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          buf = buf.subarray(n);
          skip -= n;
          if (skip > 0) return;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        const [method, target] = head.split('\r\n')[0].split(' ');
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        skip = length ? Number(length[1]) : 0;
        const req = { method, target, conn, seq: ++seq };
        requests.push(req);
        script(req, socket);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

export const okAnswer = (body = 'ok') => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
