import { BlockList } from 'node:net';
import { LRUCache } from 'lru-cache';
import { addCidr, inBlockList } from '../../core/cidr.js';
import type { RegionConfig } from './types.js';

/** The region of addresses outside every configured CIDR. */
export const UNKNOWN_REGION = 'unknown';

/** Whether a CIDR is no finer than a client network (/24, /48): the whole network is then in or out. */
function coarse(cidr: string): boolean {
  const slash = cidr.indexOf('/');
  if (slash === -1) return false;
  return Number(cidr.slice(slash + 1)) <= (cidr.includes(':') ? 48 : 24);
}

/**
 * The configured CIDR → region table: the first region (in config order)
 * whose CIDRs hold the address. Answers are cached (bounded) per client
 * network when no CIDR is finer than one (the usual table), else per
 * address, so the per-region BlockList walk happens once per network.
 */
export class RegionTable {
  private readonly regions: { name: string; list: BlockList }[];
  private readonly cache = new LRUCache<string, string>({ max: 10_000 });
  private readonly perNetwork: boolean;

  constructor(config: readonly RegionConfig[]) {
    this.regions = config.map((r) => {
      const list = new BlockList();
      for (const c of r.cidrs) addCidr(list, c);
      return { name: r.name, list };
    });
    this.perNetwork = config.every((r) => r.cidrs.every(coarse));
  }

  /** `network` is the address's client network (network.ts). */
  regionOf(address: string, network: string): string {
    const key = this.perNetwork ? network : address;
    let region = this.cache.get(key);
    if (region !== undefined) return region;
    region = UNKNOWN_REGION;
    for (const r of this.regions) {
      if (inBlockList(r.list, address)) {
        region = r.name;
        break;
      }
    }
    this.cache.set(key, region);
    return region;
  }
}
