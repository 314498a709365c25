import { resolve } from 'node:path';
import type { GatewayConfig, SecretRef } from '../config/types.js';
import { tlsIssues } from './tls.js';

/**
 * Load-time checks of the `upstreams` section beyond the schema: target URLs
 * without path or credentials, TLS file references made absolute (relative to
 * the config file) and loaded once, so a bad CA or key fails the load, not the
 * first request.
 */
export function validateUpstreamSection(cfg: GatewayConfig, baseDir: string, issues: string[]): void {
  cfg.upstreams.forEach((u, i) => {
    u.targets.forEach((t, j) => {
      try {
        const url = new URL(t.url);
        if (url.pathname !== '/' || url.search || url.username) throw new Error('no path, query or credentials allowed');
      } catch (err) {
        issues.push(`upstreams[${i}].targets[${j}].url: ${(err as Error).message}`);
      }
    });
    const tls = u.tls;
    if (!tls) return;
    const absolute = (ref: SecretRef | undefined) => {
      if (ref && 'file' in ref) ref.file = resolve(baseDir, ref.file);
    };
    absolute(tls.ca);
    absolute(tls.cert);
    absolute(tls.key);
    absolute(tls.passphrase);
    for (const issue of tlsIssues(tls)) issues.push(`upstreams[${i}].${issue}`);
  });
}
