import { BlockList } from 'node:net';
import { LRUCache } from 'lru-cache';
import { addCidr, inBlockList } from '../../config/cidr.js';
import type { RegionConfig } from './types.js';

/** The region of addresses outside every configured CIDR. */
export const UNKNOWN_REGION = 'unknown';

/**
 * The configured CIDR → region table: the first region (in config order)
 * whose CIDRs hold the address. Answers are cached per address (bounded), so
 * the per-region BlockList walk happens once per client.
 */
export class RegionTable {
  private readonly regions: { name: string; list: BlockList }[];
  private readonly cache = new LRUCache<string, string>({ max: 10_000 });

  constructor(config: readonly RegionConfig[]) {
    this.regions = config.map((r) => {
      const list = new BlockList();
      for (const c of r.cidrs) addCidr(list, c);
      return { name: r.name, list };
    });
  }

  regionOf(address: string): string {
    let region = this.cache.get(address);
    if (region !== undefined) return region;
    region = UNKNOWN_REGION;
    for (const r of this.regions) {
      if (inBlockList(r.list, address)) {
        region = r.name;
        break;
      }
    }
    this.cache.set(address, region);
    return region;
  }
}
