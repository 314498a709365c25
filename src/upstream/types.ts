import type { SecretRef } from '../core/secrets.js';

/** The `upstreams` section as the upstream module takes it (after schema validation: defaults filled in). */

export interface PoolConfig {
  maxConnections: number;
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
  /** Requests waiting for a connection beyond this are answered 503. */
  maxQueued: number;
}

export interface TimeoutConfig {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
  /** 0: no total limit (long downloads are bounded by idleMs instead). */
  totalMs: number;
}

export type BalancerAlgorithm = 'round-robin' | 'least-outstanding' | 'consistent-hash';

/** What consistent hashing keys on. */
export type HashOn = { header: string } | { cookie: string } | { clientAddress: true };

export interface BalancerConfig {
  algorithm: BalancerAlgorithm;
  hashOn?: HashOn;
  /** Ring points per unit of weight. */
  virtualNodes: number;
}

export interface HealthCheckConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** Status codes, or classes like "2xx". */
  expectedStatuses: (number | string)[];
}

export interface OutlierConfig {
  /** 0: off. */
  consecutive5xx: number;
  /** 0: off. */
  consecutiveConnectFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectedPercent: number;
}

export interface CircuitBreakerConfig {
  enabled: boolean;
  failureRatio: number;
  minRequests: number;
  windowMs: number;
  openMs: number;
  halfOpenRequests: number;
}

export interface RetryConfig {
  attempts: number;
  /** A retry may go back to the target that failed when no other can take it. */
  sameTarget?: boolean;
  budgetRatio: number;
  budgetMinRetries: number;
  budgetWindowMs: number;
}

export interface UpstreamTlsConfig {
  ca?: SecretRef;
  servername?: string;
  cert?: SecretRef;
  key?: SecretRef;
  passphrase?: SecretRef;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface UpstreamConfig {
  name: string;
  targets: { url: string; weight: number }[];
  balancer: BalancerConfig;
  healthCheck?: HealthCheckConfig;
  outlierDetection: OutlierConfig;
  circuitBreaker: CircuitBreakerConfig;
  retries: RetryConfig;
  /** For https:// targets. */
  tls?: UpstreamTlsConfig;
  pool: PoolConfig;
  timeouts: TimeoutConfig;
}
