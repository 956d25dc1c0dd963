import type * as pulumi from '@pulumi/pulumi';
import type { DnsProviderSpec } from '../domain/fleet-spec.ts';
import type { RecordSet } from '../domain/records.ts';
import { isPulumiDnsKind, providerCapabilities, type PulumiDnsKind } from '../drivers/registry.ts';
import { shapeForProvider } from '../planner/shape-for-provider.ts';
import type { MirrorAddresses, ZoneOptions } from './dns/pulumi-dns-half.ts';
import { PULUMI_DNS } from './dns/pulumi-dns-table.ts';
import { resourceName } from './record-values.ts';
import type { SecretSource } from './secrets.ts';

export type { MirrorAddresses } from './dns/pulumi-dns-half.ts';

/**
 * Zones and records at every DNS provider whose descriptor says Pulumi creates its zones (its half is in
 * src/infra/dns/<kind>.ts). The other kinds' zones are yours; the controller's drivers write their records.
 */

/** What Pulumi will do at one DNS provider, decided before anything is registered. */
export interface ProviderZonePlan {
  provider: DnsProviderSpec;
  kind: PulumiDnsKind;
  /** Default TTL of its zones: the policy TTL raised to the provider's floor. */
  ttl: number;
  /** What its half needs beyond the driver's settings (Cloudflare's accountId, an adopted Route 53 hostedZoneId). */
  options: ZoneOptions;
  /** The desired records per zone, shaped for this provider (shapeForProvider, as the controller writes them). */
  zones: Record<string, RecordSet[]>;
}

/**
 * Which providers Pulumi manages and what it writes there (pure; throws ConfigError or PlanRefusedError before any
 * resource exists). Providers the controller writes are listed in `skipped`; TTL floors and skips are in `notes`.
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
      const s = shapeForProvider(records, caps, p.name);
      shapedZones[zone] = s.records;
      for (const n of s.notes) shapeNotes.add(n);
    }
    for (const n of shapeNotes) notes.push({ level: 'warn', message: n });
    managed.push({ provider: p, kind: p.kind, ttl: Math.max(policyTtl, caps.minTtl), options: checked.options, zones: shapedZones });
  }
  return { managed, skipped, notes };
}

export interface PublishZonesArgs {
  plans: readonly ProviderZonePlan[];
  addresses: MirrorAddresses;
  secrets: SecretSource;
}

/** Nameservers per provider and zone, for the registrars and the stack outputs. */
export type ProviderNameservers = Record<string, Record<string, pulumi.Output<string[]>>>;

/** Creates the zones and records at every Pulumi-managed provider. */
export function publishZones(args: PublishZonesArgs): ProviderNameservers {
  const out: ProviderNameservers = {};
  for (const plan of args.plans) {
    const p = plan.provider;
    const half = PULUMI_DNS[plan.kind];
    const providerResource = half.providerResource(resourceName(p.name, 'provider'), p, args.secrets);
    out[p.name] = {};
    for (const [zone, records] of Object.entries(plan.zones)) {
      const z = half.zone(resourceName(p.name, zone), { provider: p, zone, records, ttl: plan.ttl, addresses: args.addresses, options: plan.options, providerResource });
      out[p.name][zone] = z.nameservers;
    }
  }
  return out;
}
