import type { SecretRef } from '../../core/secrets.js';

/** The `alerts` section as written in YAML, after schema validation (see schema.ts). */

export type AlertKind = 'spike' | 'errors' | 'latency' | 'auth-failures' | 'not-found' | 'new-network' | 'new-region';

/** What a baseline is kept per: a consumer, a route, or a client network (/24, /48 for IPv6). */
export type KeyBy = 'consumer' | 'route' | 'network';

/** Automatic response to an alert, aimed at the alert's consumer or client network. */
export type ActionConfig = { type: 'block'; durationMs: number } | { type: 'tighten'; factor: number; durationMs: number };

interface RuleBase {
  name: string;
  /** One alert per (rule, subject) within this period; default: the section's cooldownMs. */
  cooldownMs?: number;
  action?: ActionConfig;
}

export interface SpikeRule extends RuleBase {
  kind: 'spike';
  per: KeyBy;
  /** Alert when the present window's count reaches factor × its moving average. */
  factor: number;
  /** Requests per second below which nothing is a spike. */
  minRate: number;
  windowMs: number;
  warmupMs?: number;
  halfLifeMs?: number;
}

export interface ErrorsRule extends RuleBase {
  kind: 'errors';
  per: KeyBy;
  /** Alert when the window's 5xx ratio reaches factor × its moving average and minRatio. */
  factor: number;
  minRatio: number;
  minRequests: number;
  windowMs: number;
  warmupMs?: number;
  halfLifeMs?: number;
}

export interface LatencyRule extends RuleBase {
  kind: 'latency';
  per: KeyBy;
  /** Which time: the whole exchange or the upstream's part. */
  measure: 'total' | 'upstream';
  /** 0.5 to 0.99: the quantile compared (p90 by default). */
  quantile: number;
  factor: number;
  /** Milliseconds below which no latency is alarming. */
  minMs: number;
  minRequests: number;
  windowMs: number;
  warmupMs?: number;
  halfLifeMs?: number;
}

/** A burst of matching requests from one client network (auth-failures, not-found). */
export interface BurstRule extends RuleBase {
  kind: 'auth-failures' | 'not-found';
  /** Matching requests within windowMs (sliding) that raise the alert. */
  threshold: number;
  windowMs: number;
}

/** A consumer seen from a network or region it never used. */
export interface NoveltyRule extends RuleBase {
  kind: 'new-network' | 'new-region';
  warmupMs?: number;
}

export type RuleConfig = SpikeRule | ErrorsRule | LatencyRule | BurstRule | NoveltyRule;

export interface AlertWebhookConfig {
  url: string;
  secret?: SecretRef;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
  maxQueued: number;
}

export interface RegionConfig {
  name: string;
  cidrs: string[];
}

export interface AlertsSection {
  /** Half-life of the moving averages (baselines). */
  halfLifeMs: number;
  /** How long a key is watched before it may alert. */
  warmupMs: number;
  cooldownMs: number;
  /** Keys kept per rule (least recently seen evicted). */
  maxKeys: number;
  /** Networks (or regions) remembered per consumer by the novelty rules. */
  maxNetworksPerConsumer: number;
  /** Alerts sent to the sinks per minute and process; beyond it they are counted, not sent. */
  maxAlertsPerMinute: number;
  regions: RegionConfig[];
  webhooks: AlertWebhookConfig[];
  rules: RuleConfig[];
}

/** One raised alert, as every sink sees it. */
export interface Alert {
  kind: AlertKind;
  rule: string;
  /** `consumer:alice`, `route:orders`, `network:203.0.113.0/24`. */
  subject: string;
  /** What was seen, the moving average it was compared with, and the line it crossed. */
  observed: number | string;
  baseline: number | string | null;
  threshold: number | null;
  unit: string;
  /** The automatic response taken, if any. */
  action: ActionConfig | null;
  /** Epoch milliseconds. */
  time: number;
}
