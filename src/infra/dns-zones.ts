import * as pulumi from '@pulumi/pulumi';
import type { DnsProviderSpec, RegistrarKind } from '../domain/fleet-spec.ts';
import type { RecordSet } from '../domain/records.ts';
import { isPulumiDnsKind, providerCapabilities, type PulumiDnsKind } from '../drivers/registry.ts';
import { isMarkerName } from '../planner/ownership.ts';
import { shapeForProvider } from '../planner/shape-for-provider.ts';
import type { ZoneHandle, ZoneOptions } from './dns/pulumi-dns-half.ts';
import { PULUMI_DNS } from './dns/pulumi-dns-table.ts';
import { delegatedCount, normalizeNameservers } from '../domain/delegated-nameservers.ts';
import { requireDelegatedSubset, resourceName } from './record-values.ts';
import type { SecretSource } from './secrets.ts';

/**
 * Zones at every DNS provider whose descriptor says Pulumi creates them (its half is in src/infra/dns/<kind>.ts).
 * One owner per record: Pulumi owns the zones, every provider's apex NS set (listing the delegated nameservers of
 * EVERY provider) and the ownership markers; the controller owns the serving A/AAAA sets and writes them through its
 * drivers. So a `pulumi up` after a failover changes no serving record. The other kinds' zones are yours.
 */

/** TTL of the apex NS sets Pulumi writes: they change when the fleet changes, never on a failover. */
export const APEX_NS_TTL = 3600;

/** What Pulumi will do at one DNS provider, decided before anything is registered. */
export interface ProviderZonePlan {
  provider: DnsProviderSpec;
  kind: PulumiDnsKind;
  /** Default TTL of its zones: the policy TTL raised to the provider's floor. */
  ttl: number;
  /** What its half needs beyond the driver's settings (Cloudflare's accountId, an adopted Route 53 hostedZoneId). */
  options: ZoneOptions;
  /** The ownership markers per zone, shaped for this provider (shapeForProvider, as the controller writes them). */
  zones: Record<string, RecordSet[]>;
  /** How many of its nameservers go into the delegation and every apex NS set. */
  delegated: number;
}

/**
 * The records Pulumi may own among the desired ones: the ownership markers, nothing else (pure). The serving sets
 * are the controller's: were Pulumi to write them too, the first `pulumi up` after a failover would put a dead mirror
 * back (and Route 53's DELETE no longer matches, Cloudflare's delete hits 404).
 */
export function pulumiOwnedRecords(records: readonly RecordSet[]): RecordSet[] {
  return records.filter((r) => r.type === 'TXT' && isMarkerName(r.name));
}

/**
 * Which providers Pulumi manages and what it writes there (pure; throws ConfigError before any resource exists).
 * Providers the controller writes are listed in `skipped`; TTL floors and skips are in `notes`.
 */
export function planZones(providers: readonly DnsProviderSpec[], zones: Record<string, RecordSet[]>, policyTtl: number) {
  const managed: ProviderZonePlan[] = [];
  const skipped: DnsProviderSpec[] = [];
  const notes: { level: 'info' | 'warn'; message: string }[] = [];
  const zoneCount = Object.keys(zones).length;
  for (const p of providers) {
    if (!isPulumiDnsKind(p.kind)) {
      skipped.push(p);
      notes.push({ level: 'info', message: `dns provider ${p.name} (${p.kind}) is written by the controller's ${p.kind} driver, not by Pulumi: skipped` });
      continue;
    }
    const caps = providerCapabilities(p.kind);
    const checked = PULUMI_DNS[p.kind].check(p, zoneCount);
    for (const n of checked.notes) notes.push({ level: 'warn', message: n });
    const shapedZones: Record<string, RecordSet[]> = {};
    const shapeNotes = new Set<string>();
    for (const [zone, records] of Object.entries(zones)) {
      const s = shapeForProvider(pulumiOwnedRecords(records), caps, p.name);
      shapedZones[zone] = s.records;
      for (const n of s.notes) shapeNotes.add(n);
    }
    for (const n of shapeNotes) notes.push({ level: 'warn', message: n });
    managed.push({ provider: p, kind: p.kind, ttl: Math.max(policyTtl, caps.minTtl), options: checked.options, zones: shapedZones, delegated: delegatedCount(p) });
  }
  notes.push({ level: 'info', message: 'the serving A/AAAA record sets are the controller\'s (flotilla daemon/apply): Pulumi writes zones, apex NS and ownership markers only' });
  return { managed, skipped, notes };
}

export interface PublishZonesArgs {
  plans: readonly ProviderZonePlan[];
  secrets: SecretSource;
  /** Registrar kinds per zone (a Route 53 Domains registration already has its hosted zone: adopted, not created). */
  registrars: Record<string, RegistrarKind[]>;
}

/** Delegated nameservers per provider and zone, for the registrars and the stack outputs. */
export type ProviderNameservers = Record<string, Record<string, pulumi.Output<string[]>>>;

/**
 * Creates (or adopts) the zones and markers at every Pulumi-managed provider, then every zone's apex NS set with
 * every provider's delegated nameservers. Returns the delegated nameservers per provider and zone.
 */
export function publishZones(args: PublishZonesArgs): ProviderNameservers {
  const out: ProviderNameservers = {};
  const handles: { plan: ProviderZonePlan; zone: string; handle: ZoneHandle }[] = [];
  for (const plan of args.plans) {
    const p = plan.provider;
    const half = PULUMI_DNS[plan.kind];
    const providerResource = half.providerResource(resourceName(p.name, 'provider'), p, args.secrets);
    out[p.name] = {};
    for (const [zone, records] of Object.entries(plan.zones)) {
      const handle = half.zone(resourceName(p.name, zone), { provider: p, zone, records, ttl: plan.ttl, options: plan.options, registrars: args.registrars[zone] ?? [], providerResource });
      out[p.name][zone] = handle.nameservers.apply((ns) => requireDelegatedSubset(ns, plan.delegated, `${p.name} (zone ${zone})`));
      handles.push({ plan, zone, handle });
    }
  }
  for (const { plan, zone, handle } of handles) {
    const others = args.plans
      .filter((q) => q !== plan && out[q.provider.name][zone])
      .map((q) => ({ provider: q.provider.name, names: Array.from({ length: q.delegated }, (_, i) => out[q.provider.name][zone].apply((l) => l[i])) }));
    handle.apexNameservers({ own: out[plan.provider.name][zone], others, all: combinedDelegation(out, zone), ttl: APEX_NS_TTL });
  }
  return out;
}

/** Every provider's delegated nameservers for one zone, merged (lower case, no trailing dot, sorted, deduplicated). */
export function combinedDelegation(nameservers: ProviderNameservers, zone: string): pulumi.Output<string[]> {
  const lists = Object.values(nameservers)
    .map((byZone) => byZone[zone])
    .filter((x): x is pulumi.Output<string[]> => x !== undefined);
  return pulumi.all(lists).apply((ls) => normalizeNameservers(ls.flat()));
}
