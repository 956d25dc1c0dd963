import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../domain/errors.ts';
import { zoneOf, type FleetSpec, type RegistrarSpec } from '../domain/fleet-spec.ts';
import { combinedDelegation, type ProviderNameservers } from './dns-zones.ts';
import type { ProgramLog } from './program-log.ts';
import { resourceName } from './record-values.ts';

/**
 * Registrars: the delegation of each domain lists `delegatedNameservers` (default 2) nameservers of EVERY DNS
 * provider, so losing one provider leaves resolvers the others; the stack schema checks the total against each
 * registrar's limit (src/registrars/registrar-descriptors.ts: Route 53 Domains takes at most 6).
 * - route53domains: aws.route53domains.RegisteredDomain sets them (it adopts an existing registration; deleting the
 *   resource only stops managing it).
 * - cloudflare: Cloudflare Registrar requires its domains to stay on Cloudflare's own nameservers
 *   (https://developers.cloudflare.com/registrar/faq/): the stack schema refuses it beside any other DNS provider, so
 *   here it can only be a Cloudflare-only fleet; nothing to set.
 * - rfc2136: a parent zone you run; the daemon's delegation guard sets (and prunes) its NS RRset, so the list is
 *   exported for reference only.
 * - manual: the list is exported for a human to paste at the registrar.
 */

export type RegistrarAction = 'set-by-pulumi' | 'set-by-flotilla' | 'export-only' | 'paste-by-hand';

const ACTIONS: Record<RegistrarSpec['kind'], RegistrarAction> = { route53domains: 'set-by-pulumi', rfc2136: 'set-by-flotilla', cloudflare: 'export-only', manual: 'paste-by-hand' };

export function registrarAction(kind: RegistrarSpec['kind']): RegistrarAction {
  return ACTIONS[kind];
}

/** Every provider's delegated nameservers for one zone, merged (the stack's delegatedNameservers of each). */
export const combinedNameservers = combinedDelegation;

/**
 * What the registrar is given: every listed provider's delegated nameservers except those left out (pruned by the
 * delegation guard). The stack schema has already held the total to the registrar's limit.
 */
export function registrarNameservers(nameservers: ProviderNameservers, zone: string, leaveOut: readonly string[]): pulumi.Output<string[]> {
  const kept = Object.fromEntries(Object.entries(nameservers).filter(([p]) => !leaveOut.includes(p)));
  return combinedDelegation(kept, zone);
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
    const ns = registrarNameservers(nameservers, zone, leaveOut);
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
      log.info(`registrar ${r.name} (cloudflare): Cloudflare Registrar keeps ${r.domain} on Cloudflare's own nameservers; nothing to set`);
    } else {
      log.info(`registrar ${r.name} (manual): set the nameservers of ${r.domain} to the stack output registrars.${r.name}.nameservers`);
    }
    out[r.name] = { kind: r.kind, domain: r.domain, action, nameservers: ns };
  }
  return out;
}
