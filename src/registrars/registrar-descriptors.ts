import { REGISTRAR_MAX_NAMESERVERS, type RegistrarKind } from '../domain/fleet-spec.ts';

/**
 * What each registrar kind really accepts, as data (the stack schema checks a fleet against it; no code runs here).
 * - route53domains: the Route 53 Domains API takes at most 6 name servers (UpdateDomainNameservers; the Pulumi
 *   provider's `nameServers` block has MaxItems 6).
 * - cloudflare: Cloudflare Registrar keeps its domains on Cloudflare's own nameservers
 *   (https://developers.cloudflare.com/registrar/faq/), which assigns two per zone.
 * - rfc2136 (a parent zone you run) and manual: an NS RRset at the parent; 13 names is what fits a classic 512-byte
 *   referral and what registries commonly allow.
 */
export interface RegistrarDescriptor {
  readonly kind: RegistrarKind;
  readonly title: string;
  readonly maxNameservers: number;
  /** The only DNS provider kind whose nameservers the registrar allows, when it restricts them. */
  readonly onlyNameserversOf?: string;
  /** What to do instead, when the fleet does not fit. */
  readonly fix: string;
}

export const REGISTRARS = {
  route53domains: { kind: 'route53domains', title: 'Route 53 Domains', maxNameservers: REGISTRAR_MAX_NAMESERVERS.route53domains!, fix: 'lower delegatedNameservers on some DNS providers' },
  cloudflare: {
    kind: 'cloudflare',
    title: 'Cloudflare Registrar',
    maxNameservers: 2,
    onlyNameserversOf: 'cloudflare',
    fix: 'transfer the domain to a registrar that accepts any nameservers (kind route53domains, rfc2136 or manual), or publish through Cloudflare alone (and lose the multi-provider failover)',
  },
  rfc2136: { kind: 'rfc2136', title: 'the parent zone (rfc2136)', maxNameservers: 13, fix: 'lower delegatedNameservers on some DNS providers' },
  manual: { kind: 'manual', title: 'the registrar (manual)', maxNameservers: 13, fix: 'lower delegatedNameservers on some DNS providers' },
} as const satisfies Record<RegistrarKind, RegistrarDescriptor>;
