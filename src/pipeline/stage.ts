import type { GatewayErrorKind } from '../errors.js';
import type { HeaderList } from './headers.js';
import type { CompiledRoute, ListenerInfo } from '../server/compiled.js';

/**
 * What a stage sees of a request. Everything was copied out of uWS before the
 * first await, so stages may be asynchronous.
 */
export interface RequestContext {
  readonly id: string;
  readonly method: string;
  /** Normalized path: what the route matched and what is forwarded. */
  path: string;
  /** Raw query string without '?'. */
  query: string;
  /** Client request headers (lowercase names); stages may edit them before forwarding. */
  readonly headers: HeaderList;
  /** Address of the TCP peer, or the client address from trusted proxies. */
  readonly clientAddress: string;
  readonly peerAddress: string;
  readonly listener: ListenerInfo;
  readonly route: CompiledRoute;
  readonly params: Record<string, string> | null;
  /** The whole request body, present only when a stage of the route declared needsRequestBody. */
  body: Buffer | null;
  /** Per-stage scratch space (identity, limits, ...), keyed by stage name. */
  readonly state: Record<string, unknown>;
  readonly startedAt: number;
}

/** A stage's answer in place of the upstream's. */
export interface StageReply {
  error: GatewayErrorKind;
  /** Logged, never sent. */
  reason: string;
  headers?: [string, string][];
  extra?: Record<string, unknown>;
}

export interface ResponseContext {
  status: number;
  readonly headers: HeaderList;
  /** The whole response body, present only when a stage declared needsResponseBody. */
  body: Buffer | null;
}

export type StageResult = StageReply | undefined | void;

/**
 * One step of a route's chain (the shape of an Envoy filter or a Kong plugin):
 * compiled once from config, then asked about every request of its routes.
 * A stage returns nothing to pass the request on, or a reply to answer it.
 */
export interface Stage {
  readonly name: string;
  readonly needsRequestBody?: boolean;
  readonly needsResponseBody?: boolean;
  onRequest?(ctx: RequestContext): StageResult | Promise<StageResult>;
  onResponse?(ctx: RequestContext, response: ResponseContext): void | Promise<void>;
}

/** A stage type: its config schema (JSON Schema, published in config.schema.json) and its compiler. */
export interface StageFactory {
  readonly type: string;
  readonly schema: Record<string, unknown>;
  compile(options: Record<string, unknown>): Stage;
}
