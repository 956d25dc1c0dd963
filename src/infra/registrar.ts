import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../domain/errors.ts';
import { REGISTRAR_MAX_NAMESERVERS, zoneOf, type FleetSpec, type RegistrarSpec } from '../domain/fleet-spec.ts';
import { nameserverSubset } from '../domain/nameserver-subset.ts';
import type { ProviderNameservers } from './dns-zones.ts';
import type { ProgramLog } from './program-log.ts';
import { normalizeNameservers, resourceName } from './record-values.ts';

/**
 * Registrars: the delegation of each domain lists the nameservers of EVERY DNS provider, so losing one provider
 * leaves resolvers the others.
 * - route53domains: aws.route53domains.RegisteredDomain sets them (it adopts an existing registration; deleting the
 *   resource only stops managing it).
 * - cloudflare: @pulumi/cloudflare's RegistrarDomain has no nameserver field, and Cloudflare Registrar requires its
 *   domains to stay on Cloudflare's own nameservers (https://developers.cloudflare.com/registrar/faq/), so nothing
 *   can set the combined list there: the list is exported and a warning says the domain has one DNS provider.
 * - rfc2136: a parent zone you run; the daemon's delegation guard sets (and prunes) its NS RRset, so the list is
 *   exported for reference only.
 * - manual: the list is exported for a human to paste at the registrar.
 */

export type RegistrarAction = 'set-by-pulumi' | 'set-by-flotilla' | 'export-only' | 'paste-by-hand';

const ACTIONS: Record<RegistrarSpec['kind'], RegistrarAction> = { route53domains: 'set-by-pulumi', rfc2136: 'set-by-flotilla', cloudflare: 'export-only', manual: 'paste-by-hand' };

export function registrarAction(kind: RegistrarSpec['kind']): RegistrarAction {
  return ACTIONS[kind];
}

/** Every provider's nameservers for one zone, merged (lower case, no trailing dot, sorted, deduplicated). */
export function combinedNameservers(nameservers: ProviderNameservers, zone: string): pulumi.Output<string[]> {
  const lists = Object.values(nameservers)
    .map((byZone) => byZone[zone])
    .filter((x): x is pulumi.Output<string[]> => x !== undefined);
  return pulumi.all(lists).apply((ls) => normalizeNameservers(ls.flat()));
}

/**
 * What the registrar is given: every listed provider's nameservers, cut to the registrar's limit (one per provider
 * first, the same subset the delegation guard writes) when it has one.
 */
export function registrarNameservers(nameservers: ProviderNameservers, zone: string, leaveOut: readonly string[], max: number | undefined): pulumi.Output<string[]> {
  const entries = Object.entries(nameservers).filter(([p, byZone]) => !leaveOut.includes(p) && byZone[zone] !== undefined);
  return pulumi.all(entries.map(([, byZone]) => byZone[zone])).apply((ls) => {
    const all = normalizeNameservers(ls.flat());
    return max !== undefined && all.length > max ? nameserverSubset(entries.map(([provider], i) => ({ provider, nameservers: ls[i] })), max) : all;
  });
}

export interface RegistrarOutput {
  kind: RegistrarSpec['kind'];
  domain: string;
  action: RegistrarAction;
  nameservers: pulumi.Output<string[]>;
}

/** Every registrar's domain must be a zone the fleet publishes (pure; throws ConfigError). */
export function checkRegistrars(spec: Pick<FleetSpec, 'domain' | 'registrars'>, zones: readonly string[]): void {
  for (const r of spec.registrars) {
    const zone = zoneOf(spec, r.domain);
    if (!zones.includes(zone)) {
      throw new ConfigError('(stack)', [
        { path: `registrars ${r.name}.domain`, message: `${r.domain} is not a zone this fleet publishes (zones: ${zones.join(', ')})` },
      ]);
    }
  }
}

export function setupRegistrars(
  spec: Pick<FleetSpec, 'domain' | 'alternateDomains' | 'registrars' | 'dnsProviders'>,
  nameservers: ProviderNameservers,
  zones: string[],
  log: ProgramLog,
  /** Zone → providers the delegation guard pruned (from the state store): left out so `pulumi up` does not re-add them. */
  pruned: Record<string, string[]> = {},
): Record<string, RegistrarOutput> {
  const out: Record<string, RegistrarOutput> = {};
  checkRegistrars(spec, zones);
  const unlisted = spec.dnsProviders.filter((p) => !(p.name in nameservers)).map((p) => p.name);
  for (const r of spec.registrars) {
    const zone = zoneOf(spec, r.domain);
    if (unlisted.length > 0)
      log.warn(`registrar ${r.name}: providers ${unlisted.join(', ')} are not managed by Pulumi; their nameservers are not in the delegation of ${r.domain}`);
    // the guard never prunes the last answering provider; should the record say so anyway, list everyone
    const managed = Object.keys(nameservers).filter((p) => Object.prototype.hasOwnProperty.call(nameservers[p], zone));
    const prunedHere = (pruned[zone] ?? []).filter((p) => managed.includes(p));
    const leaveOut = prunedHere.length < managed.length ? prunedHere : [];
    if (leaveOut.length > 0)
      log.warn(`registrar ${r.name}: ${leaveOut.join(', ')} left out of the delegation of ${r.domain}: the delegation guard pruned ${leaveOut.length === 1 ? 'it' : 'them'} (lame), and will restore ${leaveOut.length === 1 ? 'it' : 'them'} when answering again`);
    const max = REGISTRAR_MAX_NAMESERVERS[r.kind];
    const ns = registrarNameservers(nameservers, zone, leaveOut, max);
    const action = registrarAction(r.kind);
    if (r.kind === 'route53domains') {
      // the Route 53 Domains API exists only in us-east-1, whatever region the rest of the stack uses
      const provider = new aws.Provider(resourceName('registrar', r.name, 'aws'), { region: 'us-east-1' });
      new aws.route53domains.RegisteredDomain(
        resourceName('registrar', r.name),
        { domainName: r.domain, nameServers: ns.apply((list) => list.map((name) => ({ name }))) },
        { provider },
      );
    } else if (r.kind === 'cloudflare') {
      log.warn(
        `registrar ${r.name} (cloudflare): Cloudflare Registrar keeps ${r.domain} on Cloudflare's nameservers; the other providers cannot be delegated there. ` +
          `Transfer the domain to a registrar that accepts any nameservers to survive losing Cloudflare; the combined list is exported.`,
      );
    } else {
      log.info(`registrar ${r.name} (manual): set the nameservers of ${r.domain} to the stack output registrars.${r.name}.nameservers`);
    }
    out[r.name] = { kind: r.kind, domain: r.domain, action, nameservers: ns };
  }
  return out;
}
