import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Tuning } from '../config/env.js';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observe/log.js';
import type { ToGateway, ToSupervisor } from './messages.js';

export interface SupervisorOptions {
  tuning: Tuning;
  log: Logger;
  config: GatewayConfig;
  /** Re-reads and validates the config for SIGHUP; throws with a precise message when invalid. */
  reloadConfig: (() => GatewayConfig) | null;
  /** Called once, when every process first listens. */
  onListening(urls: { name: string; url: string }[]): void;
}

const MAX_BACKOFF_MS = 10_000;
/** A process that lived this long resets the crash backoff. */
const STABLE_MS = 10_000;

/**
 * Starts ZTGATE_PROCESSES gateway processes and keeps them running: a crashed
 * one is restarted with exponential backoff while the others keep serving.
 * SIGHUP reloads the config in every process; SIGTERM/SIGINT drain and exit 0.
 */
export class Supervisor {
  private config: GatewayConfig;
  private generation = 0;
  private stopping = false;
  private crashes = 0;
  private readonly started = new Map<Worker, number>();
  /** Slot of each process (0..N-1): a restarted process takes its predecessor's gossip port. */
  private readonly slots = new Map<Worker, number>();
  private listening = 0;
  private announced = false;

  constructor(private readonly options: SupervisorOptions) {
    this.config = options.config;
  }

  start(): void {
    const { tuning } = this.options;
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('./gateway-main.js', import.meta.url)),
      // uWS answers 431 above this head size; 16 KiB leaves room for large tokens.
      // (Read by uWS at load time in each process.)
      silent: false,
    });
    process.env.UWS_HTTP_MAX_HEADERS_SIZE ??= '16384';
    for (let i = 0; i < tuning.processes; i++) this.fork(i);
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    process.on('SIGHUP', () => this.reload());
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
  }

  private fork(slot: number): void {
    const worker = cluster.fork({ ZTGATE_PROCESS_INDEX: String(slot) });
    this.started.set(worker, Date.now());
    this.slots.set(worker, slot);
    worker.on('message', (message: ToSupervisor) => this.onMessage(worker, message));
  }

  private send(worker: Worker, message: ToGateway): void {
    if (worker.isConnected()) worker.send(message);
  }

  private onMessage(worker: Worker, message: ToSupervisor): void {
    const log = this.options.log;
    switch (message.type) {
      case 'ready':
        this.send(worker, { type: 'start', config: this.config });
        return;
      case 'listening':
        log.debug({ gatewayPid: worker.process.pid }, 'gateway process listening');
        if (!this.announced && ++this.listening >= this.options.tuning.processes) {
          this.announced = true;
          this.options.onListening(message.urls);
        }
        return;
      case 'reloaded':
        if (message.ok) {
          log.info({ gatewayPid: worker.process.pid, generation: message.generation }, 'config reloaded');
          if (message.listenersChanged) log.warn('listener changes take effect after a restart; listeners kept as they were');
        } else {
          log.error({ gatewayPid: worker.process.pid, generation: message.generation, error: message.error }, 'config reload failed in a gateway process');
        }
        return;
      case 'fatal':
        log.fatal({ gatewayPid: worker.process.pid, error: message.message }, 'gateway process cannot start');
        if (!this.announced) {
          // A config that cannot listen will not listen after a restart either.
          this.stopping = true;
          process.exitCode = 1;
          for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
        }
        return;
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const startedAt = this.started.get(worker) ?? Date.now();
    const slot = this.slots.get(worker) ?? 0;
    this.started.delete(worker);
    this.slots.delete(worker);
    if (this.stopping) {
      if (this.started.size === 0) {
        this.options.log.info('all gateway processes stopped');
        setTimeout(() => process.exit(), 50);
      }
      return;
    }
    if (Date.now() - startedAt > STABLE_MS) this.crashes = 0;
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.crashes++);
    this.options.log.error({ gatewayPid: worker.process.pid, code, signal, restartInMs: delay }, 'gateway process exited; restarting');
    setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, delay).unref();
  }

  private reload(): void {
    const log = this.options.log;
    if (!this.options.reloadConfig) {
      log.warn('SIGHUP: running the embedded demo config, nothing to reload');
      return;
    }
    let next: GatewayConfig;
    try {
      next = this.options.reloadConfig();
    } catch (err) {
      log.error({ error: (err as Error).message }, 'SIGHUP: new config rejected; the old one keeps serving');
      return;
    }
    this.config = next;
    const generation = ++this.generation;
    log.info({ generation }, 'SIGHUP: config valid, swapping it in');
    for (const w of Object.values(cluster.workers ?? {})) if (w) this.send(w, { type: 'reload', config: next, generation });
  }

  private stop(why: string): void {
    if (this.stopping) return;
    this.stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    this.options.log.info({ why, processes: workers.length }, 'stopping: draining gateway processes');
    if (workers.length === 0) process.exit();
    for (const w of workers) this.send(w, { type: 'drain' });
    // Backstop: a process that does not exit after its drain deadline is killed.
    setTimeout(() => {
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }, this.options.tuning.drainMs + 5_000).unref();
  }
}
