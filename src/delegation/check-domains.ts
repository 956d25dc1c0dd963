import { isIP } from 'node:net';
import { zonesOf, type DelegationSpec, type FleetSpec } from '../domain/fleet-spec.ts';
import { classifyDelegation, type DelegationVerdict } from './delegation-verdict.ts';
import { observeDelegation, resolveVia, systemResolve } from './delegation-watch.ts';
import { findParentServers } from './find-parent.ts';
import { lookupRegistryStatus, type RdapResult } from './rdap-client.ts';

export interface DomainReport {
  zone: string;
  /** The parent servers asked, or why none could be found. */
  parents: string[];
  /** Our providers and their NS names for this zone, as compared. */
  expected: { provider: string; nameservers: string[] }[];
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
        spec.dnsProviders.map(async (p) => ({ provider: p.name, nameservers: d.nameservers[p.name] ?? nsNames(await o.providerNameservers(p.name, zone).catch(() => [])) })),
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

/** Host names only: a lab provider's `host:port` verification addresses are not NS names. */
function nsNames(list: string[]): string[] {
  return list.filter((n) => isIP(n) === 0 && !/:\d+$/.test(n) && !n.startsWith('['));
}
