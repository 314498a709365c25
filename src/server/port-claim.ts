import { createServer } from 'node:net';
import type { ListenerConfig } from '../config/types.js';

/**
 * The gateway processes listen with SO_REUSEPORT, so a second ztgate (or any
 * other SO_REUSEPORT server) on the same port would start silently and the
 * kernel would split connections between them. Before forking, the
 * supervisor binds each port once without SO_REUSEPORT: that bind fails
 * while any other socket holds the port.
 */
export async function portsHeldElsewhere(listeners: readonly ListenerConfig[]): Promise<string[]> {
  const held: string[] = [];
  for (const l of listeners) {
    if (l.port === 0) continue; // an ephemeral port is the kernel's choice, never shared
    const reason = await tryBind(l.host, l.port);
    if (reason !== null) held.push(`listener "${l.name}": port ${l.port} on ${l.host} is already held by another process (${reason}); only the processes of one ztgate share a port`);
  }
  return held;
}

function tryBind(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? 'EADDRINUSE' : null));
    // exclusive: not shared through the cluster primary either.
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}
