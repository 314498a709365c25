import net from 'node:net';
import { once } from 'node:events';

/** A TCP server on loopback that is not a usable store: `garbage` answers nonsense, `old` is a Redis 6. */
export async function startFakeStore(kind: 'garbage' | 'old'): Promise<{ port: number; url: string; connections: () => number; close: () => void }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (kind === 'garbage') {
      socket.on('data', () => socket.write('\u0000\u00ffHTTP/1.1 200 OK\r\n?*-1x$$$\r\n:not-a-number\r\n'));
      return;
    }
    // Enough RESP for a client's handshake: INFO says 6.2.14, everything else +OK.
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buffered);
        if (!m) return;
        let at = m[0].length;
        const parts: string[] = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const h = /^\$(\d+)\r\n/.exec(buffered.slice(at));
          if (!h) return;
          const len = Number(h[1]);
          if (buffered.length < at + h[0].length + len + 2) return;
          parts.push(buffered.slice(at + h[0].length, at + h[0].length + len));
          at += h[0].length + len + 2;
        }
        buffered = buffered.slice(at);
        if (parts[0]?.toUpperCase() === 'INFO') {
          const body = '# Server\r\nredis_version:6.2.14\r\nredis_mode:standalone\r\nloading:0\r\n';
          socket.write(`$${body.length}\r\n${body}\r\n`);
        } else {
          socket.write('+OK\r\n');
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
