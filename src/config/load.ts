import { readFileSync, accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BlockList } from 'node:net';
import type { ValidateFunction } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { configSchema } from './schema.js';
import { describeSchemaError, didYouMean } from './describe-error.js';
import { fileProblem } from '../core/file-error.js';
import { schemaValidator as validatorFor } from './schema-validator.js';
import type { GatewayConfig } from './types.js';
import { resolveSecret, resolveSecretFiles, unreadableSecrets } from '../core/secrets.js';
import { addCidr } from '../core/cidr.js';

export { resolveSecret, addCidr };
import { RouteConflictError } from '../routing/router.js';
import { buildRouters } from '../routing/route-table.js';
import { stageFactoryByType } from '../pipeline/registry.js';
import { validateIdentitySection } from '../identity/validate.js';
import { validateUpstreamSection } from '../upstream/validate.js';
import { validateAlertsSection } from '../observe/anomaly/validate.js';

/** A config that cannot be used; `issues` are `path: reason` lines. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

// Taken on first use: module cycles through the stage registry must not see the schema half-built.
let compiled: ValidateFunction | undefined;
const schemaValidator = () => (compiled ??= validatorFor(configSchema));

/** Parses YAML text; the result still needs validateConfig. */
export function parseYaml(text: string, source: string): unknown {
  // uniqueKeys rejects duplicate keys; the alias cap stops "billion laughs" documents.
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    // Where, and the key itself for a duplicate: the message alone does not say.
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        const key = e.code === 'DUPLICATE_KEY' ? ` ("${/^[^:\n]{0,64}/.exec(text.slice(e.pos[0]))![0].trim()}")` : '';
        return `${source}: ${e.message.split('\n')[0]}${key} at line ${line}, column ${col}`;
      }),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([`${source}: ${(err as Error).message}`]);
  }
}

/**
 * Schema, cross-references and files. Returns the config with defaults filled
 * in and every file path made absolute (relative paths are relative to baseDir).
 */
export function validateConfig(input: unknown, baseDir: string): GatewayConfig {
  const config = structuredClone(input);
  const validateSchema = schemaValidator();
  if (!validateSchema(config)) {
    // ajv reports each failing branch of if/then and oneOf: keep the leaf messages.
    const issues = (validateSchema.errors ?? []).filter((e) => e.keyword !== 'if' && e.keyword !== 'oneOf')
      .map((e) => describeSchemaError(e, config, configSchema));
    throw new ConfigError([...new Set(issues)]);
  }
  const cfg = config as GatewayConfig;
  const issues: string[] = [];
  resolveSecretFiles(cfg, baseDir);

  const unique = (kind: 'listeners' | 'upstreams' | 'routes') => {
    const seen = new Map<string, number>();
    cfg[kind].forEach((item, i) => {
      const first = seen.get(item.name);
      if (first !== undefined) issues.push(`${kind}[${i}].name: "${item.name}" is already used by ${kind}[${first}]`);
      else seen.set(item.name, i);
    });
    return seen;
  };
  const listenerNames = unique('listeners');
  const upstreamNames = unique('upstreams');
  unique('routes');
  const segments = new Set(cfg.listeners.map((l) => l.segment));

  const bound = new Map<string, number>();
  cfg.listeners.forEach((l, i) => {
    const key = `${l.host}:${l.port}`;
    if (l.port !== 0 && bound.has(key)) issues.push(`listeners[${i}].port: ${key} is already used by listeners[${bound.get(key)}]`);
    bound.set(key, i);
    l.tls?.certificates.forEach((c, j) => {
      c.cert = readable(resolve(baseDir, c.cert), `listeners[${i}].tls.certificates[${j}].cert`, issues);
      c.key = readable(resolve(baseDir, c.key), `listeners[${i}].tls.certificates[${j}].key`, issues);
      if (c.passphrase) {
        try {
          resolveSecret(c.passphrase);
        } catch (err) {
          issues.push(`listeners[${i}].tls.certificates[${j}].passphrase: ${(err as Error).message}`);
        }
      }
    });
    if (l.tls?.clientCa) l.tls.clientCa = readable(resolve(baseDir, l.tls.clientCa), `listeners[${i}].tls.clientCa`, issues);
  });

  validateUpstreamSection(cfg, issues);

  validateIdentitySection(cfg, baseDir, issues);
  validateAlertsSection(cfg, issues);
  unreadableSecrets(cfg.observe, 'observe', issues);
  if (cfg.state) unreadableSecrets(cfg.state, 'state', issues);

  cfg.routes.forEach((r, i) => {
    if (!upstreamNames.has(r.upstream)) issues.push(`routes[${i}].upstream: unknown upstream "${r.upstream}"${didYouMean(r.upstream, [...upstreamNames.keys()])}`);
    // Deny by default: a route states who may call it, or says it is public.
    const hasIdentity = r.stages.some((s) => s.type === 'identity');
    if (!hasIdentity && !r.public) issues.push(`routes[${i}]: no identity stage; add one, or set public: true to open the route to anyone`);
    if (hasIdentity && r.public) issues.push(`routes[${i}]: public: true and an identity stage contradict each other`);
    r.stages.forEach((stage, j) => {
      for (const issue of stageFactoryByType.get(stage.type)!.validate?.(stage, cfg) ?? []) issues.push(`routes[${i}].stages[${j}].${issue}`);
      // Read when the stage is built, in every gateway process: a missing one is a config error now, not a crash there.
      unreadableSecrets(stage, `routes[${i}].stages[${j}]`, issues);
    });
    r.listeners?.forEach((n, j) => {
      if (!listenerNames.has(n)) issues.push(`routes[${i}].listeners[${j}]: unknown listener "${n}"${didYouMean(n, [...listenerNames.keys()])}`);
    });
    r.segments?.forEach((s, j) => {
      if (!segments.has(s)) issues.push(`routes[${i}].segments[${j}]: no listener has segment "${s}"`);
    });
  });

  cfg.trustedProxies.forEach((p, i) => {
    try {
      addCidr(new BlockList(), p);
    } catch (err) {
      issues.push(`trustedProxies[${i}]: ${(err as Error).message}`);
    }
  });

  if (issues.length === 0) {
    try {
      buildRouters(cfg, (r) => r);
    } catch (err) {
      if (!(err instanceof RouteConflictError)) throw err;
      issues.push(`routes: ${err.message}`);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return cfg;
}

function readable(path: string, at: string, issues: string[]): string {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    issues.push(`${at}: cannot read file "${path}": ${fileProblem(err)}`);
  }
  return path;
}

export function loadConfigFile(path: string): GatewayConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError([`${absolute}: cannot read the config file: ${fileProblem(err)}`]);
  }
  return validateConfig(parseYaml(text, absolute), dirname(absolute));
}
