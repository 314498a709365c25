import { UpstreamConnection, type ConnectionOwner } from './connection.js';
import type { Target } from './target.js';
import type { PoolConfig, TimeoutConfig } from './types.js';

export type AcquireCallback = (conn: UpstreamConnection | null) => void;

/** A waiter in the queue; `cancel` is how an aborted client leaves it. */
export interface Waiter {
  cb: AcquireCallback | null;
  timer: NodeJS.Timeout | null;
}

/**
 * Keep-alive connections to one target: at most maxConnections open, the most
 * recently used idle one first (its socket is warm), then a new one, then a
 * bounded FIFO queue. A waiter that is not served within connectMs gets null.
 */
export class TargetPool implements ConnectionOwner {
  private readonly idle: UpstreamConnection[] = [];
  private readonly all = new Set<UpstreamConnection>();
  private readonly queue: Waiter[] = [];
  private queueHead = 0;
  private retired = false;

  constructor(
    readonly target: Target,
    private readonly pool: PoolConfig,
    private readonly timeouts: TimeoutConfig,
  ) {}

  get size(): number {
    return this.all.size;
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** Gives a connection now, or queues; returns the waiter (to cancel), or undefined when served at once. */
  acquire(cb: AcquireCallback): Waiter | undefined {
    const conn = this.idle.pop() ?? this.open();
    if (conn) {
      cb(conn);
      return undefined;
    }
    if (this.queued >= this.pool.maxQueued) {
      cb(null);
      return undefined;
    }
    const waiter: Waiter = { cb, timer: null };
    waiter.timer = setTimeout(() => this.expire(waiter), this.timeouts.connectMs);
    this.queue.push(waiter);
    return waiter;
  }

  /** A fresh connection, ignoring idle ones (for replaying on a stale socket). */
  acquireFresh(): UpstreamConnection | null {
    return this.open();
  }

  cancel(waiter: Waiter): void {
    if (waiter.timer) clearTimeout(waiter.timer);
    waiter.cb = null;
  }

  onIdle(conn: UpstreamConnection): void {
    if (this.retired || conn.served >= this.pool.maxRequestsPerConnection) {
      conn.destroy();
      return;
    }
    const waiter = this.nextWaiter();
    if (waiter) waiter(conn);
    else this.idle.push(conn);
  }

  onClosed(conn: UpstreamConnection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    // A slot freed up: a waiter may now get a new connection.
    if (!this.retired && this.queued > 0) {
      const waiter = this.nextWaiter();
      if (waiter) waiter(this.open());
    }
  }

  /** Config reload: idle sockets close now, busy ones after their exchange. */
  retire(): void {
    this.retired = true;
    for (const conn of this.idle.splice(0)) conn.destroy();
    let waiter;
    while ((waiter = this.nextWaiter())) waiter(null);
  }

  private open(): UpstreamConnection | null {
    if (this.all.size >= this.pool.maxConnections || this.retired) return null;
    const conn = new UpstreamConnection(this.target, this, this.timeouts, this.pool.idleTimeoutMs);
    this.all.add(conn);
    return conn;
  }

  private nextWaiter(): AcquireCallback | null {
    while (this.queueHead < this.queue.length) {
      const waiter = this.queue[this.queueHead];
      this.queue[this.queueHead++] = undefined as unknown as Waiter;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      if (waiter.cb) {
        if (waiter.timer) clearTimeout(waiter.timer);
        const cb = waiter.cb;
        waiter.cb = null;
        return cb;
      }
    }
    return null;
  }

  private expire(waiter: Waiter): void {
    const cb = waiter.cb;
    waiter.cb = null;
    waiter.timer = null;
    cb?.(null);
  }
}
