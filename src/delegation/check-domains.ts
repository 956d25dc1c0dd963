import { isIP } from 'node:net';
import { delegatedCount, delegatedSubset, normalizeNameservers } from '../domain/delegated-nameservers.ts';
import { zonesOf, type DelegationSpec, type FleetSpec } from '../domain/fleet-spec.ts';
import { classifyDelegation, type DelegationVerdict } from './delegation-verdict.ts';
import { observeDelegation, resolveVia, systemResolve } from './delegation-watch.ts';
import { findParentServers } from './find-parent.ts';
import { lookupRegistryStatus, type RdapResult } from './rdap-client.ts';

export interface DomainReport {
  zone: string;
  /** The parent servers asked, or why none could be found. */
  parents: string[];
  /**
   * Our providers and the NS names the parent should list for this zone: each provider's delegated subset (its first
   * `delegatedNameservers`, the names `pulumi up` delegates); `others` are its remaining names (ours, not delegated).
   */
  expected: ExpectedProvider[];
  verdict: DelegationVerdict;
  registry: RdapResult;
}

export interface CheckDomainsOptions {
  /** NS names of each provider for a zone, as the provider says (its apex NS / assigned nameservers). */
  providerNameservers: (provider: string, zone: string) => Promise<string[]>;
  resolveName?: (name: string) => Promise<string[]>;
  now?: () => number;
  signal?: AbortSignal;
}

/** Every zone of the fleet: its delegation at the parent, each provider's nameservers, its registry status. */
export async function checkDomains(spec: FleetSpec, d: DelegationSpec, o: CheckDomainsOptions): Promise<DomainReport[]> {
  const resolveName = o.resolveName ?? (d.resolver ? (n: string) => resolveVia(d.resolver!, n, d.timeoutMs) : systemResolve);
  const zones = zonesOf(spec);
  const rdap = lookupRegistryStatus(zones, { bootstrap: d.rdapBootstrap, timeoutMs: d.timeoutMs, warnDays: d.expiryWarnDays, now: o.now });
  const reports = await Promise.all(
    zones.map(async (zone) => {
      const expected = await Promise.all(
        spec.dnsProviders.map(async (p) => expectedOf(p.name, delegatedCount(p), d.nameservers[p.name] ?? nsNames(await o.providerNameservers(p.name, zone).catch(() => [])))),
      );
      let parents = d.parents;
      let parentError: string | undefined;
      if (parents.length === 0) {
        const found = await findParentServers(zone, d.roots, { timeoutMs: d.timeoutMs, resolveName, signal: o.signal });
        if (found.ok) parents = found.servers;
        else parentError = found.error;
      }
      const observation = await observeDelegation({ zone, expected, parents, nameserverPort: d.nameserverPort, timeoutMs: d.timeoutMs, resolveName, signal: o.signal });
      if (parentError) observation.parent = [{ server: 'roots', ok: false, error: parentError }];
      return { zone, parents, expected, verdict: classifyDelegation(observation) };
    }),
  );
  const registry = await rdap;
  return reports.map((r, i) => ({ ...r, registry: registry[i] }));
}

export interface ExpectedProvider {
  provider: string;
  nameservers: string[];
  others?: string[];
}

/** What the parent should list of one provider's names: the delegated subset, the same rule `pulumi up` follows. */
export function expectedOf(provider: string, count: number, names: readonly string[]): ExpectedProvider {
  const nameservers = delegatedSubset(names, count);
  const others = normalizeNameservers(names).filter((n) => !nameservers.includes(n));
  return { provider, nameservers, ...(others.length > 0 ? { others } : {}) };
}

/** Host names only: a lab provider's `host:port` verification addresses are not NS names. */
function nsNames(list: string[]): string[] {
  return list.filter((n) => isIP(n) === 0 && !/:\d+$/.test(n) && !n.startsWith('['));
}
