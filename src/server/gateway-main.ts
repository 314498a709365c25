import { readTuning } from '../config/env.js';
import { createLogger } from '../observe/log.js';
import { scrubLogArgs } from '../protect/log-scrub.js';
import { Gateway } from './gateway.js';
import { Metrics } from '../core/metrics.js';
import { watchProcess } from '../observe/process-metrics.js';
import { watchLimiter } from '../ratelimit/metrics.js';
import { createAnomalyDetector, type AnomalyDetector } from '../observe/anomaly/detector.js';
import { Sanctions } from '../observe/anomaly/sanctions.js';
import type { ToGateway, ToSupervisor } from './messages.js';
import { hasRateLimits, startProcessLimiter, type ProcessLimiter } from '../ratelimit/process-limiter.js';
import { startProcessStore, warnIfStateChanged } from '../state/process-store.js';
import type { StateStore } from '../state/store.js';
import type { GatewayConfig } from '../config/types.js';

/**
 * Entry of a gateway process (forked by the supervisor). It waits for its
 * config over IPC, listens, and drains on SIGTERM or when the supervisor says
 * so or goes away.
 */
const tuning = readTuning();
const log = createLogger(tuning.logLevel, { role: 'gateway' }, scrubLogArgs);
/** This process's metrics; the supervisor merges every process's snapshots. */
const metrics = new Metrics();
/** What this process's alert rules imposed; read by the chain's admission and the identity and rate-limit stages. */
const sanctions = new Sanctions();
let gateway: Gateway | null = null;
let alerts: AnomalyDetector | null = null;
let limits: ProcessLimiter | null = null;
/** The state store (quotas in Redis), once per process; null without a state section. */
let store: StateStore | null = null;
let firstConfig: GatewayConfig | null = null;
/** This process's slot among ZTGATE_PROCESSES (kept across restarts). */
const index = tuning.processIndex;
let stopping = false;
let started = false;

function send(message: ToSupervisor): void {
  if (process.connected) process.send!(message);
}

async function stop(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const left = gateway ? await gateway.drain(tuning.drainMs) : 0;
  await limits?.stop();
  await store?.close();
  alerts?.close();
  log.info({ why, abandoned: left }, left === 0 ? 'drained, exiting' : 'drain deadline passed, exiting');
  // Let pino's asynchronous destination flush before leaving.
  setTimeout(() => process.exit(0), 50).unref();
}

process.on('message', (message: ToGateway) => {
  switch (message.type) {
    case 'start':
      if (started) return;
      started = true;
      limits = startProcessLimiter(tuning, index, log);
      // Gossip only for a config with rate limits: the limiter decides alone until then.
      (hasRateLimits(message.config) ? limits.share() : Promise.resolve())
        .then(() => {
          const l = limits!;
          watchProcess(metrics);
          watchLimiter(metrics, l.limiter, () => l.gossipCounters());
          // One detector for the process's life: baselines survive reloads that keep the alerts section.
          alerts = createAnomalyDetector(message.config.alerts, { log, metrics, sanctions });
          firstConfig = message.config;
          store = startProcessStore(message.config, log, metrics, tuning.processes);
          // Sanctions raised by alert rules hold on every process of every host that shares the store.
          if (store) sanctions.share(store.sanctionRelay());
          const services = { log, workers: tuning.workers, processes: tuning.processes, rateLimiter: l.limiter, metrics, sanctions, observers: [alerts], stateStore: store };
          gateway = new Gateway(log, services, message.config);
          return gateway.init();
        })
        .then(() => gateway!.listen())
        .then(
          (urls) => send({ type: 'listening', urls }),
          (err: Error) => {
            send({ type: 'fatal', message: err.message });
            log.fatal({ err }, 'cannot listen');
            setTimeout(() => process.exit(1), 50);
          },
        );
      return;
    case 'reload':
      if (!gateway) {
        send({ type: 'reloaded', generation: message.generation, ok: false, error: 'process still starting; it starts with the config it was given' });
        return;
      }
      if (hasRateLimits(message.config)) void limits?.share();
      gateway.reload(message.config).then(
        ({ listenersChanged }) => {
          alerts?.reconfigure(message.config.alerts);
          if (firstConfig) warnIfStateChanged(firstConfig, message.config, log);
          send({ type: 'reloaded', generation: message.generation, ok: true, listenersChanged });
        },
        (err: Error) => send({ type: 'reloaded', generation: message.generation, ok: false, error: err.message }),
      );
      return;
    case 'drain':
      void stop('supervisor asked');
      return;
    case 'collect':
      // Cumulative since start: a lost answer costs the supervisor nothing.
      send({ type: 'metrics', seq: message.seq, snapshot: metrics.snapshot() });
      return;
  }
});

process.on('SIGTERM', () => void stop('SIGTERM'));
// Ctrl-C reaches the whole process group: the supervisor coordinates the stop.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('disconnect', () => void stop('supervisor went away'));
process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'uncaught exception; exiting (the supervisor restarts this process)');
  setTimeout(() => process.exit(70), 50);
});
// Last: every handler is in place before the supervisor sends the config.
send({ type: 'ready' });
