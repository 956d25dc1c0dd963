import type * as pulumi from '@pulumi/pulumi';
import type { DnsProviderSpec, RegistrarKind } from '../../domain/fleet-spec.ts';
import type { RecordSet } from '../../domain/records.ts';
import type { SecretSource } from '../secrets.ts';

/** Options a half needs beyond the driver's settings (Cloudflare's account, an adopted Route 53 hosted zone). */
export type ZoneOptions = Record<string, string | undefined>;

export interface ZoneArgs {
  provider: DnsProviderSpec;
  zone: string;
  /**
   * What Pulumi writes in the zone besides its apex NS: the ownership markers only (pulumiOwnedRecords). The serving
   * A/AAAA sets are the controller's; Pulumi never registers them.
   */
  records: RecordSet[];
  /** Default TTL of the zone itself: the policy TTL raised to the provider's floor. */
  ttl: number;
  options: ZoneOptions;
  /** Registrar kinds of this zone in the stack (a domain registered with Route 53 Domains already has a hosted zone). */
  registrars: RegistrarKind[];
  /** Explicit provider resource (credentials from the stack's env var names), when there is one. */
  providerResource?: pulumi.ProviderResource;
}

/** A zone the program created or adopted. */
export interface ZoneHandle {
  /** Every nameserver the provider assigned (normalised, sorted). */
  nameservers: pulumi.Output<string[]>;
  /** Registers the apex NS set of this zone at this provider (called once every provider's zone exists). */
  apexNameservers(args: ApexNsArgs): void;
}

export interface ApexNsArgs {
  /** This provider's own delegated nameservers (the first `delegatedNameservers` of its sorted list). */
  own: pulumi.Output<string[]>;
  /** The other providers' delegated nameservers, each a fixed count of names (so per-record providers know how many). */
  others: { provider: string; names: pulumi.Output<string>[] }[];
  /** Every provider's delegated nameservers merged: what the apex NS set lists. */
  all: pulumi.Output<string[]>;
  ttl: number;
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
 * Pulumi owns the zone, its apex NS set and the ownership markers; never a serving record.
 */
export interface PulumiDnsHalf {
  /** What Pulumi needs beyond the driver's settings: throws ConfigError before any resource exists; notes are warnings. */
  check(p: DnsProviderSpec, zoneCount: number): { options: ZoneOptions; notes: string[] };
  /** An explicit provider resource with the stack's credentials (secrets, never plain). */
  providerResource(name: string, p: DnsProviderSpec, secrets: SecretSource): pulumi.ProviderResource;
  /** Registers (or adopts) the zone and its markers. */
  zone(name: string, args: ZoneArgs): ZoneHandle;
  mocks: PulumiDnsMocks;
}
