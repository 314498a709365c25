/**
 * 32-bit FNV-1a with murmur3's finalizer: a fast, well-spread hash for
 * placing keys and ring points (not for anything an attacker must not
 * predict: a chosen key only picks which healthy target serves it).
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
