import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { queryDns, type DnsQueryResult } from '../dns/dns-client.ts';
import type { DelegationObservation, ParentAnswer, SoaAnswer } from './delegation-verdict.ts';

export interface DelegationWatchOptions {
  zone: string;
  expected: DelegationObservation['expected'];
  /** The parent zone's authoritative servers (`host` or `host:port`). */
  parents: string[];
  expectedDs?: string[];
  /** Port the delegated nameservers answer on (53 in the world; a lab may run them elsewhere). */
  nameserverPort?: number;
  timeoutMs: number;
  /** Addresses of a nameserver name that has no glue at the parent; default: the system resolver. */
  resolveName?: (name: string) => Promise<string[]>;
  signal?: AbortSignal;
}

/**
 * Asks the parent servers directly (no resolver, no cache) for the zone's NS and DS, then every nameserver listed
 * there or ours for the zone's SOA. Never throws: what could not be asked is in the observation as a failure.
 */
export async function observeDelegation(o: DelegationWatchOptions): Promise<DelegationObservation> {
  const glue = new Map<string, string[]>();
  const parent: ParentAnswer[] = await Promise.all(
    o.parents.map(async (server): Promise<ParentAnswer> => {
      const ns = await queryDns({ server, name: o.zone, type: 'NS', timeoutMs: o.timeoutMs, signal: o.signal });
      if (!ns.ok) return { server, ok: false, error: ns.error };
      for (const a of ns.additional) if (a.type === 'A' || a.type === 'AAAA') glue.set(a.name, [...(glue.get(a.name) ?? []), a.value]);
      const ds = o.expectedDs === undefined ? undefined : await queryDns({ server, name: o.zone, type: 'DS', timeoutMs: o.timeoutMs, signal: o.signal });
      return { server, ok: true, rcode: ns.rcode, ns: delegatedNs(ns, o.zone), ds: ds?.ok ? ds.answers.filter((a) => a.type === 'DS').map((a) => a.value) : [] };
    }),
  );
  const names = new Set<string>([...o.expected.flatMap((p) => p.nameservers), ...parent.flatMap((p) => (p.ok ? p.ns : []))].map((n) => n.toLowerCase().replace(/\.$/, '')));
  const port = o.nameserverPort ?? 53;
  const zone = o.zone.toLowerCase().replace(/\.$/, '');
  const glued = [...names].filter((n) => glue.has(n));
  const inZoneServers = glued.flatMap((n) => glue.get(n)!.map((a) => withPort(a, port)));
  // a name inside the zone without glue (a provider pruned from the delegation) is asked of the zone's own servers
  const resolve = async (n: string) => (n === zone || n.endsWith(`.${zone}`)) && inZoneServers.length > 0 ? addressesFrom(inZoneServers, n, o.timeoutMs) : (o.resolveName ?? systemResolve)(n);
  const soa = await Promise.all([...names].map((n) => askSoa(n, glue.get(n), resolve, o)));
  return { zone: o.zone, expected: o.expected, parent, expectedDs: o.expectedDs, soa };
}

/** NS of the zone itself, from the answer (the parent is also authoritative) or the referral in the authority section. */
function delegatedNs(r: Extract<DnsQueryResult, { ok: true }>, zone: string): string[] {
  const z = zone.toLowerCase().replace(/\.$/, '');
  return [...new Set([...r.answers, ...r.authority].filter((a) => a.type === 'NS' && a.name === z).map((a) => a.value))];
}

async function askSoa(name: string, glue: string[] | undefined, resolve: (n: string) => Promise<string[]>, o: DelegationWatchOptions): Promise<SoaAnswer> {
  let addresses = glue ?? [];
  if (isIP(name)) addresses = [name];
  if (addresses.length === 0) {
    try {
      addresses = await resolve(name);
    } catch (e) {
      return { nameserver: name, ok: false, error: `no address for ${name}: ${(e as Error).message}` };
    }
  }
  if (addresses.length === 0) return { nameserver: name, ok: false, error: `no address for ${name}` };
  const port = o.nameserverPort ?? 53;
  // the nameserver answers if any of its addresses does
  let last: SoaAnswer | undefined;
  for (const a of addresses) {
    const address = withPort(a, port);
    const r = await queryDns({ server: address, name: o.zone, type: 'SOA', timeoutMs: o.timeoutMs, signal: o.signal });
    if (!r.ok) {
      last = { nameserver: name, address, ok: false, error: r.error };
      continue;
    }
    const soa = r.answers.find((x) => x.type === 'SOA');
    last = { nameserver: name, address, ok: true, rcode: r.rcode, authoritative: r.authoritative, serial: soa ? Number(soa.value.split(' ')[2]) : undefined };
    if (r.rcode === 'NOERROR' && r.authoritative && soa) return last;
  }
  return last!;
}

/** Addresses of a name through the system's resolver (for nameservers without glue). */
export async function systemResolve(name: string): Promise<string[]> {
  const r = new Resolver({ timeout: 2000, tries: 2 });
  const [v4, v6] = await Promise.all([r.resolve4(name).catch(() => [] as string[]), r.resolve6(name).catch(() => [] as string[])]);
  return [...v4, ...v6];
}

/** Addresses of a name, asked of one recursive resolver (`host:port`) with the project's own DNS client. */
export async function resolveVia(resolver: string, name: string, timeoutMs: number): Promise<string[]> {
  const [v4, v6] = await Promise.all(['A', 'AAAA'].map((type) => queryDns({ server: resolver, name, type, timeoutMs, recursion: true })));
  const pick = (r: DnsQueryResult, type: string) => (r.ok ? r.answers.filter((a) => a.type === type).map((a) => a.value) : []);
  const out = [...pick(v4, 'A'), ...pick(v6, 'AAAA')];
  if (out.length === 0 && !v4.ok) throw new Error(v4.error);
  return out;
}

function withPort(a: string, port: number): string {
  return isIP(a) === 6 ? `[${a}]:${port}` : `${a}:${port}`;
}

/** A and AAAA of `name` from the first of `servers` that answers it authoritatively. */
async function addressesFrom(servers: readonly string[], name: string, timeoutMs: number): Promise<string[]> {
  for (const server of servers) {
    const rs = await Promise.all(['A', 'AAAA'].map((type) => queryDns({ server, name, type, timeoutMs })));
    const out = rs.flatMap((r) => (r.ok && r.authoritative ? r.answers.filter((a) => (a.type === 'A' || a.type === 'AAAA') && a.name === name).map((a) => a.value) : []));
    if (out.length > 0) return out;
  }
  return [];
}
