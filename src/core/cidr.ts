import { isIP, isIPv6, type BlockList } from 'node:net';

/** Adds "10.0.0.0/8", "::1/128" or a bare address to a BlockList; throws on anything else. */
export function addCidr(list: BlockList, spec: string): void {
  const slash = spec.indexOf('/');
  const address = slash === -1 ? spec : spec.slice(0, slash);
  const family = isIP(address);
  if (family === 0) throw new Error(`"${spec}" is not an IP address or CIDR`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) {
    list.addAddress(address, type);
    return;
  }
  const bitsText = spec.slice(slash + 1);
  const bits = Number(bitsText);
  if (!/^[0-9]{1,3}$/.test(bitsText) || bits > (family === 4 ? 32 : 128)) throw new Error(`"${spec}" has an invalid prefix length`);
  list.addSubnet(address, bits, type);
}

/** Whether `address` is in `list`; anything that is not an IP address is not. */
export function inBlockList(list: BlockList, address: string): boolean {
  try {
    return list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
}
