import { Errors } from '../../errors.js';
import type { StageReply } from '../../pipeline/stage.js';
import { networkOf } from './network.js';
import { serviceKey } from '../../pipeline/services.js';
import type { ActionConfig } from './types.js';
import type { SanctionRelay, SharedSanction } from '../../state/sanction-relay.js';

export interface Block {
  subject: string;
  rule: string;
  /** Epoch milliseconds. */
  until: number;
}

interface Entry {
  blockUntil: number;
  tightenUntil: number;
  factor: number;
  rule: string;
}

/**
 * Automatic responses to alerts: a consumer or client network blocked, or its
 * rate limits divided by a factor, for a period. Keyed by the alert subject
 * (`consumer:alice`, `network:203.0.113.0/24`). Process-local: each gateway
 * process reacts to the share of traffic it sees. Bounded: when full, the
 * oldest sanction gives way; expired ones are dropped when read.
 */
export class Sanctions {
  private readonly table = new Map<string, Entry>();

  constructor(
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The latest end of any sanction held: past it, every entry has expired. */
  private latestUntil = 0;
  /** Shares sanctions with the other processes and hosts (src/state), or null: this process only. */
  private relay: SanctionRelay | null = null;

  /** From now on, sanctions imposed here are told to the fleet, and the fleet's are applied here. */
  share(relay: SanctionRelay): void {
    this.relay = relay;
    relay.subscribe((s: SharedSanction) => {
      const durationMs = s.until - this.now();
      if (durationMs <= 0) return;
      const action: ActionConfig = s.type === 'block' ? { type: 'block', durationMs } : { type: 'tighten', factor: s.factor, durationMs };
      this.impose(s.subject, action, s.rule, false);
    });
  }

  /** Entries held, expired or not. */
  get size(): number {
    return this.table.size;
  }

  /**
   * Whether any sanction may be in force: false (one comparison) when none
   * was ever imposed or all have ended, so the stages' checks cost nothing then.
   */
  get active(): boolean {
    if (this.table.size === 0) return false;
    if (this.now() < this.latestUntil) return true;
    this.table.clear();
    return false;
  }

  /** `share`: tell the fleet (false for a sanction that came from it). */
  impose(subject: string, action: ActionConfig, rule: string, share = true): void {
    const now = this.now();
    if (share && this.relay) this.relay.publish({ subject, type: action.type, factor: action.type === 'tighten' ? action.factor : 1, until: now + action.durationMs, rule });
    let e = this.table.get(subject);
    if (e === undefined) {
      if (this.table.size >= this.max) this.table.delete(this.table.keys().next().value!);
      e = { blockUntil: 0, tightenUntil: 0, factor: 1, rule };
    } else {
      this.table.delete(subject); // re-inserted last: the newest sanction is the last to give way
    }
    e.rule = rule;
    const until = now + action.durationMs;
    if (until > this.latestUntil) this.latestUntil = until;
    if (action.type === 'block') e.blockUntil = Math.max(e.blockUntil, until);
    else {
      e.factor = e.tightenUntil > now ? Math.max(e.factor, action.factor) : action.factor;
      e.tightenUntil = Math.max(e.tightenUntil, until);
    }
    this.table.set(subject, e);
  }

  /** The block on a subject, or null; an expired entry is dropped here. */
  blocked(subject: string): Block | null {
    const e = this.live(subject);
    return e !== null && e.blockUntil > this.now() ? { subject, rule: e.rule, until: e.blockUntil } : null;
  }

  blockedConsumer(consumer: string): Block | null {
    return this.blocked(`consumer:${consumer}`);
  }

  blockedAddress(address: string): Block | null {
    return this.blocked(`network:${networkOf(address)}`);
  }

  /** What a request's rate-limit costs are multiplied by (1: not tightened). */
  tightenFactor(consumer: string | null, address: string): number {
    const now = this.now();
    let factor = 1;
    const c = consumer === null ? null : this.live(`consumer:${consumer}`);
    if (c !== null && c.tightenUntil > now) factor = c.factor;
    const n = this.live(`network:${networkOf(address)}`);
    if (n !== null && n.tightenUntil > now && n.factor > factor) factor = n.factor;
    return factor;
  }

  clear(): void {
    this.table.clear();
  }

  private live(subject: string): Entry | null {
    const e = this.table.get(subject);
    if (e === undefined) return null;
    const now = this.now();
    if (e.blockUntil <= now && e.tightenUntil <= now) {
      this.table.delete(subject);
      return null;
    }
    return e;
  }
}

/** The sanctions of this process: imposed by the alert rules, consulted by the chain's admission and the identity and rate-limit stages. */
export const SANCTIONS = serviceKey<Sanctions>('sanctions');

/** The 403 a blocked consumer or network gets, with when to come back. */
export function blockedReply(block: Block, now = Date.now()): StageReply {
  return {
    error: Errors.BLOCKED,
    reason: `${block.subject} blocked by alert rule "${block.rule}"`,
    headers: [['retry-after', String(Math.max(1, Math.ceil((block.until - now) / 1000)))]],
  };
}

/** The chain's first entry on every route: a network an alert rule blocked is refused before any stage. */
export function networkAdmission(sanctions: Sanctions): (clientAddress: string) => StageReply | undefined {
  return (clientAddress) => {
    if (!sanctions.active) return undefined;
    const block = sanctions.blockedAddress(clientAddress);
    return block ? blockedReply(block) : undefined;
  };
}
