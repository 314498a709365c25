import { portsHeldElsewhere } from './port-claim.js';
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Tuning } from '../config/env.js';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observe/log.js';
import { isMetricsSnapshot, MetricsMerger, type MergedMetrics } from '../observe/metrics-merge.js';
import { renderPrometheus } from '../observe/prometheus.js';
import { AlertRing } from '../admin/alerts.js';
import { LiveView } from '../admin/live.js';
import { redactConfig } from '../admin/redact.js';
import { configSchema } from '../config/schema.js';
import { AdminServer, type ReloadOutcome } from '../admin/server.js';
import { buildStats, type ProcessState } from '../admin/stats.js';
import { FAMILY } from '../admin/names.js';
import { supervisorFamilies, upstreamSummary } from '../admin/supervisor-metrics.js';
import type { ToGateway, ToSupervisor } from './messages.js';

export interface SupervisorOptions {
  tuning: Tuning;
  log: Logger;
  config: GatewayConfig;
  /** Re-reads and validates the config for SIGHUP; throws with a precise message when invalid. */
  reloadConfig: (() => GatewayConfig) | null;
  /** Called once, when every process first listens (and the admin listener, if any, is up: its URL or null). */
  onListening(urls: { name: string; url: string }[], adminUrl: string | null): void;
  /** The admin listener's address and bearer token; null: no admin listener. */
  admin: { host: string; port: number; token: string } | null;
}

const MAX_BACKOFF_MS = 10_000;
/** A process that lived this long resets the crash backoff. */
const STABLE_MS = 10_000;
/** Metrics are collected from every process this often while a dashboard watches (its window)... */
const COLLECT_MS = 1_000;
/**
 * ...and this often otherwise. A snapshot costs each gateway process an hdr
 * encoding per histogram series on its event loop; nobody needs per-second
 * windows while nobody looks (windows carry their length, so rates stay right).
 */
const IDLE_COLLECT_MS = 10_000;
/** The histogram families the live view reads (the others are merged for /metrics and /stats only). */
const LIVE_HISTOGRAMS: ReadonlySet<string> = new Set([FAMILY.total, FAMILY.gateway, FAMILY.upstream]);
/** A collection answers with what arrived by then: a busy or dying process must not stall /metrics. */
const COLLECT_WAIT_MS = 750;
/** A reload's outcome waits this long for every process to answer. */
const RELOAD_WAIT_MS = 15_000;

interface PendingReload {
  generation: number;
  waiting: Set<Worker>;
  results: { pid: number | undefined; ok: boolean; error?: string }[];
  done: () => void;
}

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
  /** Processes that currently listen (for /ready). */
  private readonly listeningNow = new Set<Worker>();
  private restarts = 0;
  private readonly startedAt = Date.now();
  private readonly merger = new MetricsMerger();
  private readonly live = new LiveView();
  /** Alerts from anomaly detection in any process (IPC message `alert`). */
  readonly alerts = new AlertRing();
  private readonly reloadOutcomes = { applied: 0, rejected: 0, failed: 0 };
  private collectSeq = 0;
  private collecting: { seq: number; waiting: Set<Worker>; promise: Promise<void>; done: () => void } | null = null;
  private pendingReload: PendingReload | null = null;
  private admin: AdminServer | null = null;
  private adminUrl: Promise<string | null> = Promise.resolve(null);
  private ticker: NodeJS.Timeout | null = null;
  private lastTick = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.config = options.config;
  }

  start(): void {
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('./gateway-main.js', import.meta.url)),
      // uWS answers 431 above this head size; 16 KiB leaves room for large tokens.
      // (Read by uWS at load time in each process.)
      silent: false,
      // V8 serialization: metrics snapshots carry typed arrays, which JSON would spell out number by number.
      serialization: 'advanced',
    });
    process.env.UWS_HTTP_MAX_HEADERS_SIZE ??= '16384';
    void portsHeldElsewhere(this.config.listeners).then((held) => {
      if (held.length === 0) return this.forkAll();
      for (const reason of held) {
        this.options.log.fatal({ code: 'ZTG_PORT_IN_USE', reason }, 'cannot listen');
        process.stderr.write(`ztgate: ${reason}\n`);
      }
      process.exit(1);
    });
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    process.on('SIGHUP', () => void this.reload('SIGHUP'));
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
    this.ticker = setInterval(() => void this.tick(), COLLECT_MS);
    this.ticker.unref();
    if (this.options.admin) this.startAdmin(this.options.admin);
  }

  private forkAll(): void {
    for (let i = 0; i < this.options.tuning.processes; i++) this.fork(i);
  }

  private startAdmin(a: { host: string; port: number; token: string }): void {
    const log = this.options.log;
    this.admin = new AdminServer({
      host: a.host,
      port: a.port,
      token: a.token,
      log,
      backend: {
        readiness: () => this.readiness(),
        metrics: async () => renderPrometheus(this.withSupervisorFamilies(await this.freshMerged())),
        // /stats reads the same three histogram families as the live view.
        stats: async () => this.stats(await this.freshMerged(LIVE_HISTOGRAMS)),
        // Redacted by what the schema says is secret; with the generation it is (0: as started).
        config: () => ({ generation: this.generation, config: redactConfig(this.config, configSchema) }),
        reload: () => this.reload('admin API'),
        hello: () => ({ windows: this.live.windows(), alerts: this.alerts.list(), processes: this.processState(), upstreams: upstreamSummary(this.merger.merged(LIVE_HISTOGRAMS), this.config) }),
      },
    });
    this.adminUrl = this.admin.listen().then(
      (url) => {
        const loopback = /^http:\/\/(127\.|\[::1\])/.test(url);
        log.info({ admin: url, loopback }, 'admin listener up (bearer token required; see README)');
        // Plain HTTP: the token and every answer cross the network in clear.
        if (!loopback) log.warn({ admin: url }, 'admin listener bound to a non-loopback address over plain HTTP: put TLS in front of it or bind it to 127.0.0.1 (ZTGATE_ADMIN_ADDR)');
        return url;
      },
      (err: NodeJS.ErrnoException) => {
        // The gateway keeps serving without its control plane rather than not at all.
        log.error({ error: err.message, code: err.code, host: a.host, port: a.port }, 'admin listener cannot listen; running without it');
        this.admin = null;
        return null;
      },
    );
  }

  /** Asks every process for a snapshot and resolves when all answered or after COLLECT_WAIT_MS. */
  private collect(): Promise<void> {
    if (this.collecting) return this.collecting.promise;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected() && this.started.has(w));
    if (workers.length === 0) return Promise.resolve();
    const seq = ++this.collectSeq;
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    const c = { seq, waiting: new Set(workers), promise, done };
    this.collecting = c;
    const timer = setTimeout(() => c.done(), COLLECT_WAIT_MS);
    void promise.then(() => {
      clearTimeout(timer);
      if (this.collecting === c) this.collecting = null;
    });
    for (const w of workers) this.send(w, { type: 'collect', seq });
    return promise;
  }

  private async freshMerged(histograms?: ReadonlySet<string>): Promise<MergedMetrics> {
    await this.collect();
    return this.merger.merged(histograms);
  }

  /** Every second while dashboards watch (else every IDLE_COLLECT_MS): fresh snapshots, a new live window, pushed to them. */
  private async tick(): Promise<void> {
    if (this.stopping) return;
    const now = Date.now();
    if ((this.admin?.watchers ?? 0) === 0 && now - this.lastTick < IDLE_COLLECT_MS - COLLECT_MS / 2) return;
    this.lastTick = now;
    await this.collect();
    const merged = this.merger.merged(LIVE_HISTOGRAMS);
    const window = this.live.tick(merged);
    if (window && this.admin) this.admin.broadcast('window', { window, processes: this.processState(), upstreams: upstreamSummary(merged, this.config) });
  }

  private processState(): ProcessState {
    return {
      configured: this.options.tuning.processes,
      up: this.started.size,
      listening: this.listeningNow.size,
      restarts: this.restarts,
      configGeneration: this.generation,
      startedAt: this.startedAt,
    };
  }

  private readiness() {
    const p = this.processState();
    return { ready: !this.stopping && p.listening >= p.configured, configured: p.configured, up: p.up, listening: p.listening };
  }

  private stats(merged: MergedMetrics): Record<string, unknown> {
    const routeUpstreams = new Map(this.config.routes.map((r) => [r.name, r.upstream]));
    return buildStats({ merged, live: this.live, processes: this.processState(), alerts: this.alerts.list(), routeUpstreams });
  }

  private withSupervisorFamilies(m: MergedMetrics): MergedMetrics {
    for (const [name, f] of supervisorFamilies(this.processState(), this.reloadOutcomes)) {
      (f.kind === 'counter' ? m.counters : m.gauges).set(name, f.family);
    }
    return m;
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
        this.listeningNow.add(worker);
        if (!this.announced && ++this.listening >= this.options.tuning.processes) {
          this.announced = true;
          void this.adminUrl.then((url) => this.options.onListening(message.urls, url));
        }
        return;
      case 'metrics':
        if (!isMetricsSnapshot(message.snapshot)) {
          log.error({ gatewayPid: worker.process.pid }, 'metrics snapshot of the wrong shape; ignored');
          return;
        }
        try {
          this.merger.update(worker.id, this.slots.get(worker) ?? 0, message.snapshot);
        } catch (err) {
          log.error({ gatewayPid: worker.process.pid, error: (err as Error).message }, 'metrics snapshot cannot be decoded; ignored');
        }
        if (this.collecting && this.collecting.seq === message.seq) {
          this.collecting.waiting.delete(worker);
          if (this.collecting.waiting.size === 0) this.collecting.done();
        }
        return;
      case 'alert': {
        const alert = this.alerts.push(message);
        if (alert) this.admin?.broadcast('alert', alert);
        return;
      }
      case 'reloaded':
        this.reloadAnswered(worker, message.generation, message.ok, message.error);
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
    this.listeningNow.delete(worker);
    // Its last counts stay in the totals; whatever it counted after its last snapshot is lost.
    this.merger.retire(worker.id);
    if (this.collecting?.waiting.delete(worker) && this.collecting.waiting.size === 0) this.collecting.done();
    this.reloadAnswered(worker, this.pendingReload?.generation ?? -1, false, 'process exited during the reload');
    if (this.stopping) {
      if (this.started.size === 0) {
        this.options.log.info('all gateway processes stopped');
        setTimeout(() => process.exit(), 50);
      }
      return;
    }
    if (Date.now() - startedAt > STABLE_MS) this.crashes = 0;
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.crashes++);
    this.restarts++;
    this.options.log.error({ gatewayPid: worker.process.pid, code, signal, restartInMs: delay }, 'gateway process exited; restarting');
    setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, delay).unref();
  }

  /**
   * Re-reads the config (SIGHUP or POST /reload), validates it, sends it to
   * every process and resolves with the outcome once all answered. An invalid
   * file changes nothing: the old config keeps serving.
   */
  reload(why: string): Promise<ReloadOutcome> {
    const log = this.options.log;
    if (!this.options.reloadConfig) {
      log.warn({ why }, `${why}: running the embedded demo config, nothing to reload`);
      return Promise.resolve({ outcome: 'unavailable', error: 'running the embedded demo config: nothing to reload' });
    }
    let next: GatewayConfig;
    try {
      next = this.options.reloadConfig();
    } catch (err) {
      this.reloadOutcomes.rejected++;
      // A config error's reasons as a list, one `path: reason` each, not one string with line breaks.
      const issues = (err as { issues?: unknown }).issues;
      log.error(Array.isArray(issues) ? { why, issues } : { why, error: (err as Error).message }, `${why}: new config rejected; the old one keeps serving`);
      return Promise.resolve({ outcome: 'rejected', generation: this.generation, error: (err as Error).message });
    }
    this.config = next;
    const generation = ++this.generation;
    log.info({ why, generation }, `${why}: config valid, swapping it in`);
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
    // A newer reload supersedes an unanswered one: its processes answer for the newer generation.
    this.pendingReload?.done();
    return new Promise<ReloadOutcome>((resolve) => {
      const pending: PendingReload = {
        generation,
        waiting: new Set(workers),
        results: [],
        done: () => {
          clearTimeout(timer);
          if (this.pendingReload === pending) this.pendingReload = null;
          for (const w of pending.waiting) pending.results.push({ pid: w.process.pid, ok: false, error: 'no answer' });
          const ok = pending.results.every((r) => r.ok);
          this.reloadOutcomes[ok ? 'applied' : 'failed']++;
          const failed = pending.results.find((r) => !r.ok);
          resolve({ outcome: ok ? 'applied' : 'failed', generation, error: failed?.error, processes: pending.results });
        },
      };
      const timer = setTimeout(() => pending.done(), RELOAD_WAIT_MS);
      timer.unref();
      this.pendingReload = pending;
      for (const w of workers) this.send(w, { type: 'reload', config: next, generation });
      if (workers.length === 0) pending.done();
    });
  }

  private reloadAnswered(worker: Worker, generation: number, ok: boolean, error: string | undefined): void {
    const p = this.pendingReload;
    if (!p || p.generation !== generation || !p.waiting.delete(worker)) return;
    p.results.push({ pid: worker.process.pid, ok, error });
    if (p.waiting.size === 0) p.done();
  }

  private stop(why: string): void {
    if (this.stopping) {
      // Asked again while stopping (a second SIGTERM or Ctrl-C): the operator wants it gone now.
      this.options.log.warn({ why }, 'stopping again: exiting without waiting for the drain');
      for (const w of Object.values(cluster.workers ?? {})) if (w && !w.isDead()) w.process.kill('SIGKILL');
      process.exit(process.exitCode ?? 1);
    }
    this.stopping = true;
    if (this.ticker) clearInterval(this.ticker);
    void this.admin?.close();
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    this.options.log.info({ why, processes: workers.length }, 'stopping: draining gateway processes');
    if (workers.length === 0) process.exit();
    for (const w of workers) this.send(w, { type: 'drain' });
    // Backstop: a process that does not exit after its drain deadline is killed, and the supervisor
    // leaves even if an exit was never reported to it (it would otherwise wait for that one forever).
    setTimeout(() => {
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
      setTimeout(() => process.exit(), 1_000).unref();
    }, this.options.tuning.drainMs + 5_000).unref();
  }
}
