import type { DnsProviderKind, DnsProviderSpec } from '../domain/fleet-spec.ts';
import { cloudflareProvider } from './cloudflare/cloudflare-provider.ts';
import type { DnsDriver, DriverCapabilities } from './dns-driver.ts';
import { hcloudProvider } from './hcloud/hcloud-provider.ts';
import { localProvider } from './local/local-provider.ts';
import { powerdnsProvider } from './powerdns/powerdns-provider.ts';
import type { ProviderDescriptor } from './provider-descriptor.ts';
import { rfc2136Provider } from './rfc2136/rfc2136-provider.ts';
import { route53Provider } from './route53/route53-provider.ts';

export { localZoneDir } from './local/local-provider.ts';

/**
 * THE table of DNS provider kinds: one descriptor each (src/drivers/<kind>/<kind>-provider.ts). The compiler
 * checks it against DnsProviderKind both ways, so a new kind is its folder plus one line here and one in
 * DNS_PROVIDER_KINDS. Importing this loads no driver code: each descriptor imports its driver when asked.
 */
export const DNS_PROVIDERS = {
  local: localProvider,
  rfc2136: rfc2136Provider,
  powerdns: powerdnsProvider,
  cloudflare: cloudflareProvider,
  route53: route53Provider,
  hcloud: hcloudProvider,
} as const satisfies { [K in DnsProviderKind]: ProviderDescriptor<K> };

/** Kinds whose zones the Pulumi program creates (each has its half in src/infra/dns/). */
export type PulumiDnsKind = { [K in DnsProviderKind]: (typeof DNS_PROVIDERS)[K]['zones'] extends 'pulumi' ? K : never }[DnsProviderKind];

export function providerDescriptor(kind: DnsProviderKind): ProviderDescriptor {
  return DNS_PROVIDERS[kind];
}

/** The declared capabilities of a kind (TTL floor, record types, batch, write budget): data, no driver loaded. */
export function providerCapabilities(kind: DnsProviderKind): DriverCapabilities {
  return DNS_PROVIDERS[kind].capabilities;
}

export function isPulumiDnsKind(kind: DnsProviderKind): kind is PulumiDnsKind {
  return DNS_PROVIDERS[kind].zones === 'pulumi';
}

export interface RegistryContext {
  env: Record<string, string | undefined>;
  /** The state directory; the embedded server's zones live in `<stateDir>/zones` unless the stack says otherwise. */
  stateDir: string;
}

/** Builds the driver for one provider of the stack. Settings were validated by the config loader; parse applies defaults. */
export async function createDriver(p: DnsProviderSpec, ctx: RegistryContext): Promise<DnsDriver> {
  const d = providerDescriptor(p.kind);
  return d.load({ name: p.name, env: ctx.env, settings: d.settings.parse(p.settings), stateDir: ctx.stateDir });
}

export async function createDrivers(providers: readonly DnsProviderSpec[], ctx: RegistryContext): Promise<DnsDriver[]> {
  return Promise.all(providers.map((p) => createDriver(p, ctx)));
}
