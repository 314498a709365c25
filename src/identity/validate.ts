import { resolve } from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import { addCidr } from '../core/cidr.js';
import { resolveSecret } from '../core/secrets.js';
import { BlockList } from 'node:net';
import { createPrivateKey } from 'node:crypto';
import { ApiKeyAuthenticator } from './api-key.js';
import { ClientCertMapper } from './client-cert.js';

/** Cross-checks of the `identity` section the schema cannot express; issues are `path: reason`. */
export function validateIdentitySection(cfg: GatewayConfig, baseDir: string, issues: string[]): void {
  const id = cfg.identity;
  for (const kind of ['issuers', 'introspection', 'consumers'] as const) {
    const seen = new Map<string, number>();
    id[kind].forEach((item, i) => {
      const first = seen.get(item.name);
      if (first !== undefined) issues.push(`identity.${kind}[${i}].name: "${item.name}" is already used by identity.${kind}[${first}]`);
      else seen.set(item.name, i);
    });
  }
  id.issuers.forEach((iss, i) => {
    const at = `identity.issuers[${i}]`;
    const sources = [iss.jwksUri, iss.discovery, iss.jwks, iss.pemFiles, iss.hmacSecret].filter((s) => s !== undefined && s !== false);
    if (sources.length !== 1) issues.push(`${at}: set exactly one key source (jwksUri, discovery, jwks, pemFiles or hmacSecret)`);
    const hmac = iss.algorithms.filter((a) => a.startsWith('HS'));
    if (hmac.length > 0 && !iss.hmacSecret) issues.push(`${at}.algorithms: ${hmac.join(', ')} need hmacSecret`);
    if (iss.hmacSecret && hmac.length !== iss.algorithms.length) issues.push(`${at}.algorithms: an HMAC issuer allows HS* algorithms only`);
    if (iss.hmacSecret) {
      try {
        if (Buffer.byteLength(resolveSecret(iss.hmacSecret)) < 32) issues.push(`${at}.hmacSecret: shorter than 32 bytes`);
      } catch (err) {
        issues.push(`${at}.hmacSecret: ${(err as Error).message}`);
      }
    }
    if (iss.pemFiles) iss.pemFiles = iss.pemFiles.map((f) => resolve(baseDir, f));
  });
  id.introspection.forEach((e, i) => {
    try {
      resolveSecret(e.clientSecret);
    } catch (err) {
      issues.push(`identity.introspection[${i}].clientSecret: ${(err as Error).message}`);
    }
  });
  if (id.signing) {
    const ref = id.signing.privateKey;
    try {
      const key = createPrivateKey(resolveSecret(ref));
      const expected = id.signing.algorithm.startsWith('ES') ? 'ec' : id.signing.algorithm === 'EdDSA' ? 'ed25519' : 'rsa';
      if (key.asymmetricKeyType !== expected) issues.push(`identity.signing.privateKey: a ${key.asymmetricKeyType} key does not fit ${id.signing.algorithm}`);
    } catch (err) {
      issues.push(`identity.signing.privateKey: ${(err as Error).message}`);
    }
  }
  // The same key or certificate on two consumers, a malformed fingerprint...: the runtime's own checks.
  for (const build of [() => new ApiKeyAuthenticator(id.consumers), () => new ClientCertMapper(id.consumers)]) {
    try {
      build();
    } catch (err) {
      issues.push((err as Error).message);
    }
  }
  id.consumers.forEach((c, i) => {
    for (const field of ['allowCidrs', 'denyCidrs'] as const) {
      c[field].forEach((spec, j) => {
        try {
          addCidr(new BlockList(), spec);
        } catch (err) {
          issues.push(`identity.consumers[${i}].${field}[${j}]: ${(err as Error).message}`);
        }
      });
    }
  });
}
