import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The gossip datagram (at most MAX_DATAGRAM bytes):
 *   0  'Z' 'G'            magic
 *   2  version (1)
 *   3  flags (0)
 *   4  sender id          8 bytes, random per process start
 *   12 sequence           uint32 BE, +1 per datagram
 *   16 timestamp          float64 BE, sender's wall clock in ms
 *   24 payload            UTF-8 JSON object with a string `t`
 *   N-32 HMAC-SHA256(secret, bytes 0..N-32)
 * A datagram is dropped (and counted) when it is too large (oversized), too
 * short or not ours or not JSON (malformed), when its MAC is wrong (forged),
 * or when its sequence number was seen or fell out of the window, or its
 * timestamp is outside the replay window (replayed).
 */

export const MAX_DATAGRAM = 1400;
const HEADER = 24;
const MAC = 32;
/** Largest JSON payload that fits in one datagram. */
export const MAX_PAYLOAD = MAX_DATAGRAM - HEADER - MAC;
const VERSION = 1;
const SEQ_WINDOW = 32;
const MAX_SENDERS = 4096;

/** Seals a payload into a datagram from `id` (8 bytes). */
export function seal(key: Buffer, id: Buffer, payload: Buffer, seq: number, timestamp: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length + MAC);
  out[0] = 0x5a;
  out[1] = 0x47;
  out[2] = VERSION;
  out[3] = 0;
  id.copy(out, 4);
  out.writeUInt32BE(seq >>> 0, 12);
  out.writeDoubleBE(timestamp, 16);
  payload.copy(out, HEADER);
  createHmac('sha256', key).update(out.subarray(0, HEADER + payload.length)).digest().copy(out, HEADER + payload.length);
  return out;
}

export interface Opened {
  /** The sender's id, 16 hex digits. */
  sender: string;
  seq: number;
  timestamp: number;
  /** The payload as text (JSON, not parsed yet). */
  payload: string;
}

/** A datagram's fields once its size, magic and MAC check out; else why it is dropped. */
export function open(key: Buffer, msg: Buffer): Opened | 'oversized' | 'malformed' | 'forged' {
  if (msg.length > MAX_DATAGRAM) return 'oversized';
  if (msg.length < HEADER + MAC + 2 || msg[0] !== 0x5a || msg[1] !== 0x47 || msg[2] !== VERSION) return 'malformed';
  const body = msg.subarray(0, msg.length - MAC);
  const mac = createHmac('sha256', key).update(body).digest();
  if (!timingSafeEqual(mac, msg.subarray(msg.length - MAC))) return 'forged';
  return {
    sender: msg.toString('hex', 4, 12),
    seq: msg.readUInt32BE(12),
    timestamp: msg.readDoubleBE(16),
    payload: msg.toString('utf8', HEADER, msg.length - MAC),
  };
}

interface SenderWindow {
  max: number;
  /** Bit i set: sequence max - i was seen. */
  bits: number;
}

/** Sliding-window replay check on each sender's sequence numbers; bounded in senders (the oldest gives way). */
export class ReplayGuard {
  private readonly windows = new Map<string, SenderWindow>();

  accept(sender: string, seq: number): boolean {
    let w = this.windows.get(sender);
    if (!w) {
      if (this.windows.size >= MAX_SENDERS) this.windows.delete(this.windows.keys().next().value!);
      this.windows.set(sender, { max: seq, bits: 1 });
      return true;
    }
    // Serial-number arithmetic (RFC 1982): the 32-bit sequence may wrap.
    const diff = (seq - w.max) | 0;
    if (diff > 0) {
      w.bits = diff >= SEQ_WINDOW ? 1 : ((w.bits << diff) | 1) >>> 0;
      w.max = seq;
      return true;
    }
    const back = -diff;
    if (back >= SEQ_WINDOW) return false;
    const bit = (1 << back) >>> 0;
    if (w.bits & bit) return false;
    w.bits = (w.bits | bit) >>> 0;
    return true;
  }

  /** A member gone for good: its window is dropped. */
  forget(sender: string): void {
    this.windows.delete(sender);
  }
}
