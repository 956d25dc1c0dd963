import { isIP } from 'node:net';
import { queryDns } from '../dns/dns-client.ts';

export type ParentSearch = { ok: true; servers: string[]; cut: string } | { ok: false; error: string };

const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');
const isBelow = (name: string, zone: string) => zone === '' || name === zone || name.endsWith(`.${zone}`);

/**
 * Finds the servers of the zone that delegates `zone` by walking referrals down from `roots`, asking each level
 * directly (no resolver in between, so a resolver's cache never hides a change at the parent). The parent is the
 * last server set that answered with a referral to `zone` itself, or authoritatively without one (no delegation).
 */
export async function findParentServers(zone: string, roots: readonly string[], o: { timeoutMs: number; resolveName: (n: string) => Promise<string[]>; signal?: AbortSignal }): Promise<ParentSearch> {
  const target = norm(zone);
  let servers = [...roots];
  let cut = '';
  for (let depth = 0; depth < 16; depth++) {
    let errors: string[] = [];
    let next: string[] | undefined;
    let nextCut = cut;
    for (const server of servers) {
      const r = await queryDns({ server, name: target, type: 'NS', timeoutMs: o.timeoutMs, signal: o.signal });
      if (!r.ok) { errors.push(r.error); continue; }
      if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN') { errors.push(`${server}: ${r.rcode}`); continue; }
      const referral = r.authority.filter((a) => a.type === 'NS');
      const owner = referral[0]?.name;
      if (owner === target || r.authoritative || owner === undefined) return { ok: true, servers, cut: r.authoritative && owner !== target ? target : cut };
      if (!isBelow(target, owner) || owner.length <= cut.length) { errors.push(`${server}: a referral to ${owner}, which is not closer to ${target}`); continue; }
      const names = referral.filter((a) => a.name === owner).map((a) => a.value);
      const glue = r.additional.filter((a) => (a.type === 'A' || a.type === 'AAAA') && names.includes(a.name)).map((a) => a.value);
      let addresses = glue;
      if (addresses.length === 0) for (const n of names) addresses.push(...(await o.resolveName(n).catch(() => [])));
      if (addresses.length === 0) { errors.push(`${server}: a referral to ${owner} without addresses`); continue; }
      next = addresses.map((a) => (isIP(a) === 6 ? `[${a}]:53` : a));
      nextCut = owner;
      break;
    }
    if (!next) return { ok: false, error: `finding the parent of ${target}: ${errors.join('; ') || 'no server answered'}` };
    servers = next;
    cut = nextCut;
  }
  return { ok: false, error: `finding the parent of ${target}: more than 16 referrals` };
}
