import { BlockList, isIP } from 'node:net';

/** The loopback networks: the default of the embedded server's AXFR allow-list and rate-limit exemption. */
export const LOOPBACK = ['127.0.0.0/8', '::1/128'] as const;

/** `addr` or `addr/prefix` as [address, prefix, family]; undefined when it is not one. */
export function parseCidr(text: string): [string, number, 'ipv4' | 'ipv6'] | undefined {
  const [addr, bits, ...rest] = text.trim().split('/');
  const v = isIP(addr);
  if (v === 0 || rest.length > 0) return undefined;
  const max = v === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return undefined;
  return [addr, prefix, v === 4 ? 'ipv4' : 'ipv6'];
}

/** A matcher for a list of CIDRs (IPv4-mapped IPv6 clients match IPv4 entries). Throws on an entry that is not one. */
export function addressMatcher(cidrs: readonly string[]): (addr: string) => boolean {
  const list = new BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c);
    if (!p) throw new Error(`not an address or CIDR: ${JSON.stringify(c)}`);
    list.addSubnet(p[0], p[1], p[2]);
  }
  return (addr) => {
    const v = isIP(addr);
    return v !== 0 && list.check(addr, v === 4 ? 'ipv4' : 'ipv6');
  };
}
