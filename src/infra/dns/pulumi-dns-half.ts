import * as pulumi from '@pulumi/pulumi';
import type { DnsProviderSpec } from '../../domain/fleet-spec.ts';
import type { RecordSet } from '../../domain/records.ts';
import { parsePlaceholder, valueKey } from '../record-values.ts';
import type { SecretSource } from '../secrets.ts';

/** Addresses of each mirror: plain for known hosts, Outputs for hosts Pulumi creates. */
export type MirrorAddresses = Record<string, { ipv4?: pulumi.Input<string | undefined>; ipv6?: pulumi.Input<string | undefined> }>;

/** One value of an RRset, placeholders resolved to the mirror's address. */
export interface ResolvedValue {
  /** Stable identity inside the RRset (mirror name, address, or hash). */
  key: string;
  value: pulumi.Output<string>;
}

/** Resolves `${mirror:NAME:family}` values to the mirror's address Output; other values pass through. */
export function resolveValues(r: RecordSet, addresses: MirrorAddresses): ResolvedValue[] {
  return r.values.map((v) => {
    const ref = parsePlaceholder(v);
    if (!ref) return { key: valueKey(r.type, v), value: pulumi.output(v) };
    const a = addresses[ref.mirror];
    if (!a) throw new Error(`record ${r.name}/${r.type} refers to mirror ${ref.mirror}, which the program did not deploy`);
    const value = pulumi.output(a[ref.family]).apply((x) => {
      if (!x) throw new Error(`mirror ${ref.mirror} has no ${ref.family} address for ${r.name}/${r.type}`);
      return x;
    });
    return { key: valueKey(r.type, v), value };
  });
}

/** Options a half needs beyond the driver's settings (Cloudflare's account, an adopted Route 53 hosted zone). */
export type ZoneOptions = Record<string, string | undefined>;

export interface ZoneArgs {
  provider: DnsProviderSpec;
  zone: string;
  /** Shaped for this provider (shapeForProvider): every TTL at or above its floor. */
  records: RecordSet[];
  /** Default TTL of the zone itself: the policy TTL raised to the provider's floor. */
  ttl: number;
  addresses: MirrorAddresses;
  options: ZoneOptions;
  /** Explicit provider resource (credentials from the stack's env var names), when there is one. */
  providerResource?: pulumi.ProviderResource;
}

/** Plausible answers of the provider's resources and functions under `pulumi.runtime.setMocks` (mock-preview.ts). */
export interface PulumiDnsMocks {
  resources: Record<string, (name: string, inputs: Record<string, unknown>) => { id: string; state: Record<string, unknown> }>;
  calls?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
  /** Per resource type, the inputs `renderPreview` shows. */
  keyInputs: Record<string, string[]>;
}

/**
 * The Pulumi half of one DNS provider kind whose zones Pulumi creates (the descriptor in src/drivers/<kind>/ says
 * `zones: 'pulumi'`; only src/infra may import @pulumi/*, so this half lives here, in src/infra/dns/<kind>.ts).
 */
export interface PulumiDnsHalf {
  /** What Pulumi needs beyond the driver's settings: throws ConfigError before any resource exists; notes are warnings. */
  check(p: DnsProviderSpec, zoneCount: number): { options: ZoneOptions; notes: string[] };
  /** An explicit provider resource with the stack's credentials (secrets, never plain). */
  providerResource(name: string, p: DnsProviderSpec, secrets: SecretSource): pulumi.ProviderResource;
  /** Registers the zone and its records; returns the zone's nameservers (normalised, sorted). */
  zone(name: string, args: ZoneArgs): { nameservers: pulumi.Output<string[]> };
  mocks: PulumiDnsMocks;
}
