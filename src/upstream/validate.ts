import type { GatewayConfig } from '../config/types.js';
import { tlsIssues } from './tls.js';

/**
 * Load-time checks of the `upstreams` section beyond the schema: target URLs
 * without path or credentials, TLS files (made absolute by the loader, relative
 * to the config file) loaded once, so a bad CA or key fails the load, not the
 * first request.
 */
export function validateUpstreamSection(cfg: GatewayConfig, issues: string[]): void {
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
    for (const issue of tlsIssues(tls)) issues.push(`upstreams[${i}].${issue}`);
  });
}
