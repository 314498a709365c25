import { fnv1a32, mix32 } from '../util/hash.js';

/**
 * FNV-1a with murmur3's finalizer: well spread for placing keys and ring
 * points (a chosen key only picks which healthy target serves it).
 */
export function hash32(s: string): number {
  return mix32(fnv1a32(s));
}
