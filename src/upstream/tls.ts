import { isIP } from 'node:net';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { resolveSecret } from '../core/secrets.js';
import type { UpstreamTlsConfig } from './types.js';

/**
 * TLS options for an upstream's https:// targets, built once per config
 * generation. The certificate is always verified (chain and name): there is no
 * switch to turn that off. The context holds the trust and the client
 * certificate; a service's rotated certificate is checked on each new
 * connection, so one the CA trusts is accepted without a reload.
 */
export function upstreamTlsOptions(config: UpstreamTlsConfig | undefined): ConnectionOptions {
  const minVersion = config?.minVersion ?? 'TLSv1.2';
  const secureContext = createSecureContext({
    minVersion,
    // No `ca`: Node's bundled roots (the system's default trust).
    ...(config?.ca ? { ca: resolveSecret(config.ca) } : {}),
    ...(config?.cert && config.key ? { cert: resolveSecret(config.cert), key: resolveSecret(config.key) } : {}),
    ...(config?.passphrase ? { passphrase: resolveSecret(config.passphrase) } : {}),
  });
  return { secureContext, minVersion, rejectUnauthorized: true, ...(config?.servername ? { servername: config.servername } : {}) };
}

/** Per target: SNI defaults to the target's host name; an IP literal is checked against the certificate's IP names and sends no SNI (RFC 6066). */
export function targetTlsOptions(shared: ConnectionOptions, host: string): ConnectionOptions {
  if (shared.servername || isIP(host)) return shared;
  return { ...shared, servername: host };
}

/** Load-time check that the TLS files can be read and form a usable context; returns `field: reason` issues. */
export function tlsIssues(config: UpstreamTlsConfig): string[] {
  try {
    upstreamTlsOptions(config);
    return [];
  } catch (err) {
    return [`tls: ${(err as Error).message}`];
  }
}
