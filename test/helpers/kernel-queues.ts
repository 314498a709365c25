import { readFileSync } from 'node:fs';

/**
 * Bytes waiting in the kernel's TCP queues (send and receive) of loopback
 * sockets whose local or remote port is one of `ports` (/proc/net/tcp,
 * tx_queue + rx_queue). Given the ephemeral ports of one transfer, this is
 * what sits between its ends outside any process.
 */
export function kernelQueued(ports: number[]): number {
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5) continue;
      const local = parseInt(f[1].split(':')[1], 16);
      const remote = parseInt(f[2].split(':')[1], 16);
      if (!ports.includes(local) && !ports.includes(remote)) continue;
      const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
      total += tx + rx;
    }
  }
  return total;
}
