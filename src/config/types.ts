import type { ConsumerConfig, IntrospectionConfig, IssuerConfig } from '../identity/types.js';
import type { AccessLogPolicy, ObserveConfig } from '../observe/schema.js';
import type { SigningConfig } from '../identity/signer.js';
import type { WebSocketRouteConfig } from '../proxy/websocket-schema.js';
import type { AlertsSection } from '../observe/anomaly/types.js';

/** The configuration as written in YAML, after schema validation (see schema.ts). */

import type { SecretRef } from '../core/secrets.js';

export type { SecretRef };

export interface TlsCertificateConfig {
  cert: string;
  key: string;
  passphrase?: SecretRef;
  /** SNI names served with this certificate; the first certificate is also the default. */
  serverNames?: string[];
}

export interface ListenerConfig {
  name: string;
  host: string;
  port: number;
  /** Network segment tag (external, internal, ...) that route policies refer to. */
  segment: string;
  tls?: {
    certificates: TlsCertificateConfig[];
    /** CA bundle that client certificates are verified against (mTLS). */
    clientCa?: string;
  };
}

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

export interface StageConfig {
  type: string;
  [option: string]: unknown;
}

export interface RouteConfig {
  name: string;
  match: { host?: string; path: string; methods?: string[] };
  upstream: string;
  /** Routes are closed by default; identity policies arrive with the identity stage. */
  public?: boolean;
  /** Listener names this route is reachable from; default: every listener. */
  listeners?: string[];
  /** Listener segments this route is reachable from; default: every segment. */
  segments?: string[];
  maxBodyBytes: number;
  preserveHost: boolean;
  path: { allowSemicolon: boolean; allowEncodedSlash: boolean };
  /** WebSocket upgrades on this route (off by default). */
  websocket: WebSocketRouteConfig;
  /** Overrides `observe.accessLog` for this route. */
  accessLog?: Partial<AccessLogPolicy>;
  stages: StageConfig[];
}

export interface IdentitySection {
  signing?: SigningConfig;
  issuers: IssuerConfig[];
  introspection: IntrospectionConfig[];
  consumers: ConsumerConfig[];
  /** Client headers always removed before forwarding, besides X-Consumer-* and X-Authenticated-*. */
  stripHeaders: string[];
}

export interface GatewayConfig {
  identity: IdentitySection;
  listeners: ListenerConfig[];
  upstreams: UpstreamConfig[];
  routes: RouteConfig[];
  /** Peers whose X-Forwarded-* / Forwarded headers are believed (CIDRs or addresses). */
  trustedProxies: string[];
  limits: { maxUrlBytes: number };
  /** Anomaly detection rules and alert sinks (src/observe/anomaly). */
  alerts: AlertsSection;
  observe: ObserveConfig;
}
