import { isIPv6 } from 'node:net';

/**
 * The client network of an address: its /24 for IPv4 (and IPv4-mapped IPv6),
 * its /48 for IPv6, as `203.0.113.0/24` or `2001:db8:1::/48`; '' for anything
 * that is not an address. Linear in the address's length, no regex.
 */
export function networkOf(address: string): string {
  const lastDot = ipv4LastDot(address);
  if (lastDot > 0) return `${address.slice(0, lastDot)}.0/24`;
  if (address.length > 64 || !isIPv6(address)) return '';
  const groups = expandIPv6(address);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.0/24`;
  }
  return `${groups[0].toString(16)}:${groups[1].toString(16)}:${groups[2].toString(16)}::/48`;
}

/**
 * For a dotted-quad IPv4 address (four decimal parts 0–255, no leading
 * zeros, like node:net's isIPv4), the index of its last dot; else -1. One
 * pass over at most 15 characters: the common case costs no regex.
 */
function ipv4LastDot(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let parts = 0;
  let value = 0;
  let digits = 0;
  let lastDot = -1;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255) return -1;
      parts++;
      if (i < n) lastDot = i;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return -1; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else {
      return -1;
    }
  }
  return parts === 4 ? lastDot : -1;
}

/** The eight 16-bit groups of a valid IPv6 address (zone dropped, embedded IPv4 folded in). */
function expandIPv6(address: string): number[] {
  const zone = address.indexOf('%');
  let text = zone === -1 ? address : address.slice(0, zone);
  const dot = text.indexOf('.');
  if (dot !== -1) {
    const colon = text.lastIndexOf(':');
    const v4 = text.slice(colon + 1).split('.').map(Number);
    text = `${text.slice(0, colon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const gap = text.indexOf('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  if (gap === -1) return parse(text);
  const head = parse(text.slice(0, gap));
  const tail = parse(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
