import { BlockList } from 'node:net';
import { addCidr } from '../../core/cidr.js';
import { resolveSecret } from '../../core/secrets.js';
import type { GatewayConfig } from '../../config/types.js';

/**
 * Cross-checks of the `alerts` section after the schema: unique rule and
 * region names, CIDRs, readable webhook secrets (the loader made their paths absolute),
 * actions only where there is a consumer or network to act on.
 */
export function validateAlertsSection(cfg: GatewayConfig, issues: string[]): void {
  const a = cfg.alerts;
  const seen = new Map<string, number>();
  a.rules.forEach((r, i) => {
    const first = seen.get(r.name);
    if (first !== undefined) issues.push(`alerts.rules[${i}].name: "${r.name}" is already used by alerts.rules[${first}]`);
    else seen.set(r.name, i);
    if (r.action && 'per' in r && r.per === 'route') issues.push(`alerts.rules[${i}].action: a route cannot be blocked or tightened; use per: consumer or network`);
    if (r.kind === 'new-region' && a.regions.length === 0) issues.push(`alerts.rules[${i}]: kind new-region needs alerts.regions`);
  });
  const regionNames = new Map<string, number>();
  a.regions.forEach((r, i) => {
    const first = regionNames.get(r.name);
    if (first !== undefined) issues.push(`alerts.regions[${i}].name: "${r.name}" is already used by alerts.regions[${first}]`);
    else regionNames.set(r.name, i);
    r.cidrs.forEach((c, j) => {
      try {
        addCidr(new BlockList(), c);
      } catch (err) {
        issues.push(`alerts.regions[${i}].cidrs[${j}]: ${(err as Error).message}`);
      }
    });
  });
  a.webhooks.forEach((w, i) => {
    if (!w.secret) return;
    try {
      resolveSecret(w.secret);
    } catch (err) {
      issues.push(`alerts.webhooks[${i}].secret: ${(err as Error).message}`);
    }
  });
}
