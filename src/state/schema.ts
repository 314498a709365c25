import { secretRef } from '../core/schema-parts.js';
import type { SecretRef } from '../core/secrets.js';

/** The `state` section: where fleet state (quotas) lives beyond one process. Without it, every limit is decided in the gateway as before. */
export interface StateSection {
  redis: RedisStoreConfig;
  /**
   * Share of each quota one process may admit on its own while the store is
   * unreachable (`onStoreFailure: local`); default 1 / ZTGATE_PROCESSES.
   */
  fallbackShare?: number;
}

export interface RedisStoreConfig {
  /** redis://host:port/db or rediss:// (TLS). */
  url: string;
  /** TLS to the store (implied by rediss://). */
  tls?: { ca?: SecretRef; servername?: string; rejectUnauthorized: boolean };
  username?: string;
  password?: SecretRef;
  /** Put before every key the gateway writes. */
  keyPrefix: string;
  /** The longest a request waits for the store before its limit's onStoreFailure applies. */
  timeoutMs: number;
}

export const stateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['redis'],
  description: 'Fleet state kept in Redis 7 or Valkey: quotas (limits of a minute or longer) survive restarts of any or every gateway process and are shared by every host using the same store. Without this section every limit is decided in the gateway.',
  properties: {
    redis: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      description: 'The store: one Redis 7 or Valkey node.',
      properties: {
        url: { type: 'string', pattern: '^rediss?://', description: 'redis://host:port/db, or rediss:// for TLS. Put no password here: use password.' },
        tls: {
          type: 'object',
          additionalProperties: false,
          description: 'TLS to the store (rediss:// turns it on with these defaults).',
          properties: {
            ca: { ...secretRef, description: 'PEM bundle the store\'s certificate is verified against (default: the system\'s CAs).' },
            servername: { type: 'string', minLength: 1, description: 'Name checked in the store\'s certificate (default: the URL\'s host).' },
            rejectUnauthorized: { type: 'boolean', default: true, description: 'Refuse a store whose certificate does not verify. Turn off only for a throwaway test store.' },
          },
        },
        username: { type: 'string', minLength: 1, maxLength: 256, description: 'ACL user (Redis 6+ ACLs); default: the default user.' },
        password: { ...secretRef, description: 'The ACL user\'s password, from the environment or a file.' },
        keyPrefix: { type: 'string', maxLength: 64, pattern: '^[A-Za-z0-9_.:{}-]*$', default: 'ztgate:', description: 'Put before every key the gateway writes, so gateways of different fleets can share one store.' },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 10_000, default: 50, description: 'The longest a request waits for the store; past it (or at once when the store is unreachable) each limit\'s onStoreFailure decides.' },
      },
    },
    fallbackShare: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'Share of each quota one process may admit on its own while the store is unreachable (onStoreFailure: local). Default 1 / ZTGATE_PROCESSES, right for one host; with H hosts set 1 / (H x processes).',
    },
  },
} as const;
