import { isIP } from 'node:net';

/** "10.0.0.2:7946" or "[fd00::2]:7946" (an IP address, or localhost, and a port), or null. */
export function parseAddr(addr: string): { host: string; port: number } | null {
  const m = /^\[?([^\]]+?)\]?:([0-9]{1,5})$/.exec(addr.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  const host = m[1] === 'localhost' ? '127.0.0.1' : m[1];
  if (isIP(host) === 0) return null;
  return { host, port };
}
