import { LRUCache } from 'lru-cache';
import type { RequestRecord } from '../../request-record.js';
import type { Finding, Rule, Subjects } from '../rule.js';
import type { RegionTable } from '../regions.js';
import type { AlertsSection, NoveltyRule } from '../types.js';

interface State {
  firstSeen: number;
  quietUntil: number;
  /** Networks or regions seen, oldest first (bounded). */
  readonly seen: Set<string>;
}

/**
 * A consumer appearing from a network (/24, /48) or a region it never used.
 * What a consumer uses during its warm-up is learnt silently; afterwards the
 * first request from somewhere new raises the alert (and that place is
 * learnt). Per consumer at most maxNetworksPerConsumer places are kept, the
 * oldest forgotten first.
 */
export class Novelty implements Rule {
  private readonly table: LRUCache<string, State>;
  private readonly placeOf: (r: RequestRecord, network: string) => string;
  private readonly warmupMs: number;
  private readonly cooldownMs: number;
  private readonly maxPlaces: number;
  private readonly unit: string;

  constructor(
    readonly config: NoveltyRule,
    section: AlertsSection,
    regions: RegionTable,
  ) {
    this.table = new LRUCache({ max: section.maxKeys });
    this.placeOf = config.kind === 'new-region' ? (r, network) => regions.regionOf(r.clientAddress, network) : (_r, network) => network;
    this.unit = config.kind === 'new-region' ? 'region' : 'network';
    this.warmupMs = config.warmupMs ?? section.warmupMs;
    this.cooldownMs = config.cooldownMs ?? section.cooldownMs;
    this.maxPlaces = section.maxNetworksPerConsumer;
  }

  get size(): number {
    return this.table.size;
  }

  observe(record: RequestRecord, now: number, subjects: Subjects): Finding | null {
    const subject = subjects.consumer;
    const network = subjects.clientNetwork;
    if (subject === null || network === '') return null;
    let st = this.table.get(subject);
    if (st === undefined) {
      st = { firstSeen: now, quietUntil: 0, seen: new Set() };
      this.table.set(subject, st);
    }
    const place = this.placeOf(record, network);
    if (st.seen.has(place)) return null;
    const alert = st.seen.size > 0 && now - st.firstSeen >= this.warmupMs && now >= st.quietUntil;
    const known = alert ? [...st.seen] : null;
    if (st.seen.size >= this.maxPlaces) st.seen.delete(st.seen.values().next().value!);
    st.seen.add(place);
    if (known === null) return null;
    st.quietUntil = now + this.cooldownMs;
    const shown = known.slice(-3).join(', ');
    return { subject, observed: place, baseline: known.length > 3 ? `${shown} (+${known.length - 3} more)` : shown, threshold: null, unit: this.unit };
  }
}
