import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { parseAddr } from '../core/host-port.js';
import { MAX_PAYLOAD, open, ReplayGuard, seal } from './gossip-wire.js';
import { systemClock, type Clock } from './gcra.js';

/**
 * The gossip channel between gateway processes (on this host and on peer
 * hosts), over UDP.
 *
 * Datagrams are sealed and checked by gossip-wire.ts (HMAC-SHA256, replay window).
 *
 * Membership is SWIM-like, sized for a cluster of gateway processes: every
 * member heartbeats every other member (and the seed addresses) each
 * `intervalMs`; each heartbeat piggybacks a slice of the member list, so
 * members learn of each other through any seed. A member not heard from for
 * `suspectAfterMs` becomes suspect (and, for the limiter, no longer owns
 * keys); after `deadAfterMs` more it is removed (and remembered as dead for a
 * while, so stale gossip does not bring it back; a direct datagram from it
 * does). A member that stops sends `leave`, and is removed at once.
 */

export { MAX_DATAGRAM, MAX_PAYLOAD } from './gossip-wire.js';
/** Key used when no secret is configured (integrity only; gossip is then bound to loopback). */
const LOOPBACK_KEY = 'ztgate-gossip-loopback-only';

export type MemberState = 'alive' | 'suspect' | 'dead';

export interface Member {
  readonly id: string;
  /** host:port to send to. */
  addr: string;
  state: MemberState;
  /** Local clock ms of the last authenticated datagram from it. */
  lastHeard: number;
  /** When it became suspect or dead. */
  since: number;
  /** True once we heard from it directly (not only through gossip). */
  direct: boolean;
  /** When we last probed it while it was dead. */
  probed: number;
}

export interface GossipCounters {
  sent: number;
  sendErrors: number;
  received: number;
  accepted: number;
  dropped: { forged: number; replayed: number; oversized: number; malformed: number };
  /** Application messages too large for one datagram (not sent). */
  tooLarge: number;
  joined: number;
  died: number;
  left: number;
}

export interface GossipLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface GossipOptions {
  /** 16 hex digits; random by default (a restarted process is a new member). */
  id?: string;
  /** Bind address; forced to 127.0.0.1 when there is no secret. Default 0.0.0.0 (127.0.0.1 without a secret). */
  host?: string;
  /** UDP port; 0 picks a free one. */
  port: number;
  /** Seed addresses host:port (ZTGATE_GOSSIP_PEERS). */
  seeds?: string[];
  /** HMAC-SHA256 key (ZTGATE_GOSSIP_SECRET). */
  secret?: string | Buffer | null;
  /** Heartbeat period (default 100 ms). */
  intervalMs?: number;
  /** Silence before a member is suspect (default 500 ms). */
  suspectAfterMs?: number;
  /** Further silence before a suspect is removed (default 500 ms). */
  deadAfterMs?: number;
  /** How long a dead member is remembered (default 30 s). */
  tombstoneMs?: number;
  /** Accepted distance between a datagram's timestamp and our clock (default 30 s). */
  replayWindowMs?: number;
  clock?: Clock;
  log?: GossipLog;
}

const SILENT_LOG: GossipLog = { info() {}, warn() {} };

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}


function formatAddr(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * One member's end of the gossip channel. Events:
 * - `message` (from: string, kind: string, body: unknown): an application message;
 * - `change` (): the set of live members changed (see `epoch`);
 * - `join` / `suspect` / `dead` / `leave` (id: string).
 */
export class Gossip extends EventEmitter {
  readonly id: string;
  readonly counters: GossipCounters = {
    sent: 0,
    sendErrors: 0,
    received: 0,
    accepted: 0,
    dropped: { forged: 0, replayed: 0, oversized: 0, malformed: 0 },
    tooLarge: 0,
    joined: 0,
    died: 0,
    left: 0,
  };
  /** Bumped whenever the set of members that may own keys (alive, not suspect) changes. */
  epoch = 0;
  /** True when the channel is authenticated with a configured secret. */
  readonly authenticated: boolean;

  private readonly key: Buffer;
  private readonly host: string;
  private readonly seeds: string[];
  private readonly intervalMs: number;
  private readonly suspectAfterMs: number;
  private readonly deadAfterMs: number;
  private readonly tombstoneMs: number;
  private readonly replayWindowMs: number;
  private readonly clock: Clock;
  private readonly log: GossipLog;
  private readonly idBytes: Buffer;
  private readonly members = new Map<string, Member>();
  private readonly replay = new ReplayGuard();
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private gossipCursor = 0;
  private cut = false;
  private liveCache: string[] | null = null;
  private ownersCache: string[] | null = null;

  constructor(private readonly options: GossipOptions) {
    super();
    this.id = options.id ?? randomBytes(8).toString('hex');
    if (!/^[0-9a-f]{16}$/.test(this.id)) throw new Error('gossip id: expected 16 hex digits');
    this.idBytes = Buffer.from(this.id, 'hex');
    const secret = options.secret ?? null;
    this.authenticated = secret !== null && secret.length > 0;
    this.key = Buffer.from(this.authenticated ? secret! : LOOPBACK_KEY);
    this.log = options.log ?? SILENT_LOG;
    let seeds = options.seeds ?? [];
    if (this.authenticated) {
      this.host = options.host ?? '0.0.0.0';
    } else {
      this.host = '127.0.0.1';
      const remote = seeds.filter((s) => !isLoopback(parseAddr(s)?.host ?? ''));
      if (remote.length) this.log.warn({ ignored: remote }, 'gossip: seeds off this host ignored without ZTGATE_GOSSIP_SECRET');
      seeds = seeds.filter((s) => !remote.includes(s));
    }
    for (const s of seeds) if (!parseAddr(s)) throw new Error(`gossip seed "${s}": expected host:port`);
    this.seeds = seeds.map((s) => {
      const a = parseAddr(s)!;
      return formatAddr(a.host, a.port);
    });
    this.intervalMs = options.intervalMs ?? 100;
    this.suspectAfterMs = options.suspectAfterMs ?? 500;
    this.deadAfterMs = options.deadAfterMs ?? 500;
    this.tombstoneMs = options.tombstoneMs ?? 30_000;
    this.replayWindowMs = options.replayWindowMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
  }

  /** Binds the socket and starts heartbeating. */
  async start(): Promise<{ address: string; port: number }> {
    const socket = createSocket({ type: this.host.includes(':') ? 'udp6' : 'udp4' });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    socket.on('error', (err) => this.log.warn({ err: err.message }, 'gossip socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, this.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.unref();
    try {
      // Batches arrive in bursts; the kernel may cap these (net.core.rmem_max).
      socket.setRecvBufferSize(4 << 20);
      socket.setSendBufferSize(1 << 20);
    } catch {
      /* keep the defaults */
    }
    const a = socket.address();
    if (this.authenticated) {
      this.log.info({ id: this.id, address: a.address, port: a.port, seeds: this.seeds }, 'gossip: listening, datagrams authenticated with HMAC-SHA256');
    } else {
      this.log.warn(
        { id: this.id, address: a.address, port: a.port, seeds: this.seeds },
        'gossip: no ZTGATE_GOSSIP_SECRET: bound to loopback only, peers on other hosts cannot join',
      );
    }
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    this.tick();
    return { address: a.address, port: a.port };
  }

  /** Tells the others we leave, then closes the socket. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const socket = this.socket;
    if (!socket) return;
    for (const m of this.members.values()) if (m.state !== 'dead') this.sendTo(m.addr, { t: 'leave' });
    this.socket = null;
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  address(): { address: string; port: number } | null {
    return this.socket ? this.socket.address() : null;
  }

  /** Test and operations hook: drop all traffic in and out, as if the network were cut. */
  setCut(cut: boolean): void {
    this.cut = cut;
  }

  /** Every member we know of (not ourselves). */
  memberList(): Member[] {
    return [...this.members.values()];
  }

  /** Ids of the members heard from recently (alive or suspect), ourselves included, sorted. */
  live(): readonly string[] {
    if (!this.liveCache) {
      const ids = [this.id];
      for (const m of this.members.values()) if (m.state !== 'dead') ids.push(m.id);
      this.liveCache = ids.sort();
    }
    return this.liveCache;
  }

  /** Ids that may own keys: ourselves and the members not suspect, sorted. */
  owners(): readonly string[] {
    if (!this.ownersCache) {
      const ids = [this.id];
      for (const m of this.members.values()) if (m.state === 'alive') ids.push(m.id);
      this.ownersCache = ids.sort();
    }
    return this.ownersCache;
  }

  /** Local clock ms of the last datagram from a member (0 if unknown). */
  lastHeard(id: string): number {
    return this.members.get(id)?.lastHeard ?? 0;
  }

  /** Sends an application message; false if it does not fit in a datagram or the member is unknown. */
  send(to: string, kind: string, body: unknown): boolean {
    const m = this.members.get(to);
    if (!m || m.state === 'dead') return false;
    return this.sendTo(m.addr, { t: 'a', k: kind, b: body });
  }

  /** Sends an application message to every live member. */
  broadcast(kind: string, body: unknown): number {
    const payload = Buffer.from(JSON.stringify({ t: 'a', k: kind, b: body }));
    if (payload.length > MAX_PAYLOAD) {
      this.counters.tooLarge++;
      return 0;
    }
    let n = 0;
    for (const m of this.members.values()) if (m.state !== 'dead' && this.sendRaw(m.addr, payload)) n++;
    return n;
  }

  /** Serialized size of an application message's body as it travels (for batching). */
  static overhead(kind: string): number {
    return JSON.stringify({ t: 'a', k: kind, b: null }).length - 4;
  }

  // --- wire -------------------------------------------------------------

  /** Seals a payload into a datagram (exported for tests through `seal`). */
  seal(payload: Buffer, seq = ++this.seq, timestamp = this.wallClock()): Buffer {
    return seal(this.key, this.idBytes, payload, seq, timestamp);
  }

  private wallClock(): number {
    return Date.now();
  }

  private sendTo(addr: string, message: object): boolean {
    const payload = Buffer.from(JSON.stringify(message));
    if (payload.length > MAX_PAYLOAD) {
      this.counters.tooLarge++;
      return false;
    }
    return this.sendRaw(addr, payload);
  }

  private sendRaw(addr: string, payload: Buffer): boolean {
    const socket = this.socket;
    if (!socket || this.cut) return false;
    const a = parseAddr(addr);
    if (!a) return false;
    const datagram = this.seal(payload);
    this.counters.sent++;
    socket.send(datagram, a.port, a.host, (err) => {
      if (err) this.counters.sendErrors++;
    });
    return true;
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.cut) return;
    this.counters.received++;
    const d = this.counters.dropped;
    const opened = open(this.key, msg);
    if (typeof opened === 'string') {
      d[opened]++;
      return;
    }
    const sender = opened.sender;
    if (sender === this.id) {
      // Our own datagram (a seed address that is ourselves, or reflected): ignore.
      return;
    }
    if (!(Math.abs(this.wallClock() - opened.timestamp) <= this.replayWindowMs) || !this.replay.accept(sender, opened.seq)) {
      d.replayed++;
      return;
    }
    let message: { t?: unknown; [k: string]: unknown };
    try {
      message = JSON.parse(opened.payload);
    } catch {
      d.malformed++;
      return;
    }
    if (message === null || typeof message !== 'object' || typeof message.t !== 'string') {
      d.malformed++;
      return;
    }
    const from = formatAddr(rinfo.address, rinfo.port);
    switch (message.t) {
      case 'hb':
        this.counters.accepted++;
        this.heard(sender, from);
        this.mergeGossip(message.m, rinfo.address);
        return;
      case 'leave': {
        this.counters.accepted++;
        const m = this.members.get(sender);
        if (m && m.state !== 'dead') {
          this.markDead(m, 'leave');
          this.counters.left++;
        }
        return;
      }
      case 'a':
        if (typeof message.k !== 'string') {
          d.malformed++;
          return;
        }
        this.counters.accepted++;
        this.heard(sender, from);
        this.emit('message', sender, message.k, message.b);
        return;
      default:
        d.malformed++;
    }
  }

  // --- membership ---------------------------------------------------------

  private changed(): void {
    this.liveCache = null;
    this.ownersCache = null;
    this.epoch++;
    this.emit('change');
  }

  /** A datagram came straight from `id` at `addr`. */
  private heard(id: string, addr: string): void {
    const now = this.clock.now();
    let m = this.members.get(id);
    if (!m) {
      m = { id, addr, state: 'alive', lastHeard: now, since: now, direct: true, probed: 0 };
      this.members.set(id, m);
      this.counters.joined++;
      this.changed();
      this.emit('join', id);
      // Answer at once so the newcomer learns of us (and of the others) without waiting a period.
      this.heartbeat(m.addr);
      return;
    }
    m.lastHeard = now;
    m.direct = true;
    if (m.addr !== addr) m.addr = addr;
    if (m.state !== 'alive') {
      const wasDead = m.state === 'dead';
      m.state = 'alive';
      m.since = now;
      if (wasDead) this.counters.joined++;
      this.changed();
      this.emit('join', id);
    }
  }

  /** Members another member told us about: [id, addr] pairs. Only used to discover members. */
  private mergeGossip(list: unknown, senderHost: string): void {
    if (!Array.isArray(list)) return;
    const now = this.clock.now();
    for (const entry of list.slice(0, 64)) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') continue;
      const [id, rawAddr] = entry as [string, string];
      if (id === this.id || !/^[0-9a-f]{16}$/.test(id)) continue;
      const known = this.members.get(id);
      if (known) {
        // Someone hears a member we think dead: probe it (at most once a second); only its own answer revives it.
        if (known.state === 'dead' && now - known.probed > 1000) {
          known.probed = now;
          this.heartbeat(known.addr);
        }
        continue;
      }
      const a = parseAddr(rawAddr);
      if (!a) continue;
      // A loopback address relayed from another host means that host.
      const host = isLoopback(a.host) && !isLoopback(senderHost) ? senderHost : a.host;
      if (!this.authenticated && !isLoopback(host)) continue;
      // Known through gossip only: a candidate until it answers our heartbeats.
      const m: Member = { id, addr: formatAddr(host, a.port), state: 'suspect', lastHeard: now, since: now, direct: false, probed: 0 };
      this.members.set(id, m);
      this.changed();
      this.heartbeat(m.addr);
    }
  }

  private markDead(m: Member, why: 'dead' | 'leave'): void {
    m.state = 'dead';
    m.since = this.clock.now();
    this.changed();
    this.emit(why, m.id);
  }

  private heartbeat(addr: string): void {
    this.sendTo(addr, { t: 'hb', m: this.gossipSlice() });
  }

  /** Up to 20 live members, rotating, as [id, addr] pairs. */
  private gossipSlice(): [string, string][] {
    const live = [...this.members.values()].filter((m) => m.state === 'alive' && m.direct);
    if (live.length <= 20) return live.map((m) => [m.id, m.addr]);
    const out: [string, string][] = [];
    for (let i = 0; i < 20; i++) {
      const m = live[(this.gossipCursor + i) % live.length];
      out.push([m.id, m.addr]);
    }
    this.gossipCursor = (this.gossipCursor + 20) % live.length;
    return out;
  }

  private tick(): void {
    const now = this.clock.now();
    const known = new Set<string>();
    for (const m of [...this.members.values()]) {
      const silent = now - m.lastHeard;
      if (m.state === 'alive' && silent > this.suspectAfterMs) {
        m.state = 'suspect';
        m.since = now;
        this.changed();
        this.emit('suspect', m.id);
      } else if (m.state === 'suspect' && silent > this.suspectAfterMs + this.deadAfterMs) {
        this.markDead(m, 'dead');
        if (m.direct) this.counters.died++;
      } else if (m.state === 'dead' && now - m.since > this.tombstoneMs) {
        this.members.delete(m.id);
        this.replay.forget(m.id);
        continue;
      }
      if (m.state !== 'dead') known.add(m.addr);
    }
    const message = { t: 'hb', m: this.gossipSlice() };
    for (const addr of known) this.sendTo(addr, message);
    for (const seed of this.seeds) if (!known.has(seed)) this.sendTo(seed, message);
  }
}
