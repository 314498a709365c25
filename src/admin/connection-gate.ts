import type { Socket } from 'node:net';

/** Connections one peer may hold open before authenticating; a new one past this closes its oldest. */
export const UNAUTHENTICATED_PER_PEER = 8;
/** Connections not yet authenticated, all peers together; a new one past this closes the oldest. */
export const UNAUTHENTICATED_TOTAL = 64;
/**
 * A connection younger than this is not closed to make room: a client opening
 * many at once (dashboards) has its calls on them parsed first.
 */
export const EVICTABLE_AFTER_MS = 200;
/** Time a connection has to make an authenticated call. */
export const UNAUTHENTICATED_GRACE_MS = 2000;

interface Pending {
  readonly socket: Socket;
  readonly peer: string;
  readonly timer: NodeJS.Timeout;
  readonly at: number;
}

/**
 * Keeps idle unauthenticated connections from locking the operator out of the
 * admin listener: a connection counts as unauthenticated until one of its
 * calls carried the token; it has UNAUTHENTICATED_GRACE_MS to do so, and when
 * a peer (or everyone) holds too many, the oldest goes (once it is
 * EVICTABLE_AFTER_MS old), not the newcomer, so the next connection, the
 * operator's, is let in.
 */
export class ConnectionGate {
  /** In arrival order (a Map keeps it): the oldest first. */
  private readonly pending = new Map<Socket, Pending>();
  private readonly perPeer = new Map<string, Set<Socket>>();
  /** Connections closed by the gate (for the admin's metrics and tests). */
  evicted = 0;

  constructor(
    private readonly onEvict: (peer: string, why: string) => void = () => {},
    private readonly limits = { perPeer: UNAUTHENTICATED_PER_PEER, total: UNAUTHENTICATED_TOTAL, graceMs: UNAUTHENTICATED_GRACE_MS },
  ) {}

  admit(socket: Socket): void {
    const peer = socket.remoteAddress ?? '';
    const timer = setTimeout(() => this.evict(socket, 'no authenticated call in time'), this.limits.graceMs);
    timer.unref();
    this.pending.set(socket, { socket, peer, timer, at: Date.now() });
    let mine = this.perPeer.get(peer);
    if (mine === undefined) this.perPeer.set(peer, (mine = new Set()));
    mine.add(socket);
    socket.once('close', () => this.forget(socket));
    if (mine.size > this.limits.perPeer) this.evictIfOld(mine.values().next().value!, 'too many unauthenticated connections from the peer');
    if (this.pending.size > this.limits.total) this.evictIfOld(this.pending.keys().next().value!, 'too many unauthenticated connections');
  }

  /** A call on `socket` carried the token: it stays, under the server's usual keep-alive rules. */
  authenticated(socket: Socket): void {
    this.forget(socket);
  }

  /** The oldest goes once it had time to send its call; until then the limit is exceeded for a moment. */
  private evictIfOld(socket: Socket, why: string): void {
    const p = this.pending.get(socket);
    if (p && Date.now() - p.at >= EVICTABLE_AFTER_MS) this.evict(socket, why);
  }

  private evict(socket: Socket, why: string): void {
    const p = this.pending.get(socket);
    if (!p) return;
    this.forget(socket);
    this.evicted++;
    this.onEvict(p.peer, why);
    socket.destroy();
  }

  private forget(socket: Socket): void {
    const p = this.pending.get(socket);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(socket);
    const mine = this.perPeer.get(p.peer);
    mine?.delete(socket);
    if (mine?.size === 0) this.perPeer.delete(p.peer);
  }
}
