import { isDeepStrictEqual } from 'node:util';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../core/metrics.js';
import { StateStore } from './store.js';

/**
 * The one state store of a gateway process, from the first config it runs
 * (null without a state section). It connects in the background: the gateway
 * serves at once, on each quota's onStoreFailure until the store answers.
 */
export function startProcessStore(config: GatewayConfig, log: Logger, metrics: Metrics, processes: number): StateStore | null {
  if (!config.state) return null;
  const store = new StateStore(config.state, log.child({ component: 'state' }), metrics, processes);
  store.start();
  return store;
}

/** A reload keeps the process's store: a changed state section applies when the processes restart. */
export function warnIfStateChanged(before: GatewayConfig, after: GatewayConfig, log: Logger): void {
  if (!isDeepStrictEqual(before.state ?? null, after.state ?? null)) log.warn('state section changed: it applies when the gateway processes restart');
}
