/** What the in-flight list needs of an entry: the slot it sits in (-1 when not listed). */
export interface Listed {
  inFlightSlot: number;
}

/**
 * The requests in flight (and the open WebSocket sessions), for draining: an array whose entries know their slot, removed
 * by moving the last entry into the hole. Not a Set: a Set's table is rehashed every few
 * dozen add/delete pairs, and V8 keeps each replaced table pointing at its successor.
 * Once a table was promoted (any full GC does it), that chain kept every later table,
 * and every request they held, alive through each scavenge: 30% of the young generation
 * survived, scavenges took 8–13 ms, and the p99 of the bare proxy followed them
 * (native-bench/NOTES.md, session 3). Here nothing outlives its request.
 */
export class InFlight<T extends Listed> {
  private readonly list: T[] = [];

  get size(): number {
    return this.list.length;
  }

  add(entry: T): void {
    if (entry.inFlightSlot >= 0) return; // listed already
    entry.inFlightSlot = this.list.length;
    this.list.push(entry);
  }

  delete(entry: T): void {
    const slot = entry.inFlightSlot;
    if (slot < 0 || this.list[slot] !== entry) return;
    entry.inFlightSlot = -1;
    const last = this.list.pop()!;
    if (last !== entry) {
      this.list[slot] = last;
      last.inFlightSlot = slot;
    }
  }

  /** A copy: entries may leave while the caller walks it. */
  snapshot(): T[] {
    return this.list.slice();
  }
}
