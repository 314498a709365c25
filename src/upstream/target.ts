import type { ConnectionOptions } from 'node:tls';

/** One address an upstream forwards to, parsed once from its URL. */
export interface Target {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Value of the Host header when the route does not preserve the client's. */
  readonly authority: string;
  /** For https:// targets: trust, SNI, client certificate (see tls.ts). */
  readonly tlsOptions: ConnectionOptions | null;
}

export function parseTarget(url: string, tlsOptions: ConnectionOptions | null = null): Target {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const port = u.port ? Number(u.port) : tls ? 443 : 80;
  // URL keeps IPv6 literals in brackets; net.connect wants them bare.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { url, host, port, tls, authority: u.host, tlsOptions: tls ? tlsOptions : null };
}
