import { BlockList } from 'node:net';
import type { IdentitySection } from './types.js';
import { addCidr } from '../core/cidr.js';
import type { Logger } from '../observe/log.js';
import { ApiKeyAuthenticator } from './api-key.js';
import { ClientCertMapper } from './client-cert.js';
import { Introspector } from './introspection.js';
import { JwtVerifier } from './jwt/verifier.js';
import type { ConsumerConfig } from './types.js';
import { IdentitySigner } from './signer.js';
import { serviceKey } from '../pipeline/services.js';

export interface ConsumerRuntime {
  readonly config: ConsumerConfig;
  readonly allow: BlockList | null;
  readonly deny: BlockList | null;
}

export function cidrList(specs: readonly string[]): BlockList | null {
  if (specs.length === 0) return null;
  const list = new BlockList();
  for (const s of specs) addCidr(list, s);
  return list;
}

/**
 * The identity services of one config generation: JWT issuers (with their key
 * stores and the worker pool), API keys, introspection clients, the client
 * certificate map and consumers. Reused across reloads while the identity
 * section is unchanged, so keys and caches survive a route edit.
 */
export class IdentityRuntime {
  readonly jwt: JwtVerifier;
  readonly apiKeys: ApiKeyAuthenticator;
  readonly certificates: ClientCertMapper;
  readonly introspectors: ReadonlyMap<string, Introspector>;
  readonly consumers: ReadonlyMap<string, ConsumerRuntime>;
  /** Identity of this section, to decide reuse on reload. */
  readonly key: string;
  signer: IdentitySigner | null = null;

  constructor(
    readonly section: IdentitySection,
    workers: number,
    log: Logger,
  ) {
    this.key = JSON.stringify(section);
    this.jwt = new JwtVerifier(section.issuers, { workers, log });
    this.apiKeys = new ApiKeyAuthenticator(section.consumers);
    this.certificates = new ClientCertMapper(section.consumers);
    this.introspectors = new Map(section.introspection.map((c) => [c.name, new Introspector(c, { log })]));
    this.consumers = new Map(
      section.consumers.map((c) => [c.name, { config: c, allow: cidrList(c.allowCidrs), deny: cidrList(c.denyCidrs) }]),
    );
  }

  /** Loads keys (never throws: an issuer that is down is retried in the background). */
  async start(): Promise<void> {
    if (this.section.signing) this.signer = await IdentitySigner.create(this.section.signing);
    await this.jwt.start();
  }

  close(): Promise<void> {
    return this.jwt.close();
  }
}

/** The identity runtime of a config generation (absent when the config has no identity section). */
export const IDENTITY_RUNTIME = serviceKey<IdentityRuntime>('identity runtime');
