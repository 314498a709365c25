import type { AccessLogPolicy, ObserveConfig } from '../observe/schema.js';
import type { WebSocketRouteConfig } from '../proxy/websocket-schema.js';
import type { AlertsSection } from '../observe/anomaly/types.js';
import type { StateSection } from '../state/schema.js';
import type { ClientHeadersConfig } from '../server/client-headers.js';

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

export type { PoolConfig, TimeoutConfig, BalancerAlgorithm, HashOn, BalancerConfig, HealthCheckConfig, OutlierConfig, CircuitBreakerConfig, RetryConfig, UpstreamTlsConfig, UpstreamConfig } from '../upstream/types.js';
import type { UpstreamConfig } from '../upstream/types.js';

export interface StageConfig {
  type: string;
  [option: string]: unknown;
}

export interface RouteConfig {
  name: string;
  match: { host?: string; path: string; methods?: string[]; caseInsensitive?: boolean };
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

export type { IdentitySection } from '../identity/types.js';
import type { IdentitySection } from '../identity/types.js';

export interface GatewayConfig {
  identity: IdentitySection;
  listeners: ListenerConfig[];
  upstreams: UpstreamConfig[];
  routes: RouteConfig[];
  /** Peers whose X-Forwarded-* / Forwarded headers are believed (CIDRs or addresses). */
  trustedProxies: string[];
  limits: { maxUrlBytes: number };
  /** Underscored header names and method overrides from clients (src/server/client-headers.ts). */
  clientHeaders: ClientHeadersConfig;
  /** Anomaly detection rules and alert sinks (src/observe/anomaly). */
  alerts: AlertsSection;
  observe: ObserveConfig;
  /** Fleet state in Redis (src/state); absent: every limit is decided in the gateway. */
  state?: StateSection;
}
