import * as aws from '@pulumi/aws';
import * as cloudflare from '@pulumi/cloudflare';
import * as hcloud from '@pulumi/hcloud';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../domain/errors.ts';
import type { DnsProviderSpec } from '../domain/fleet-spec.ts';
import type { RecordSet, RecordType } from '../domain/records.ts';
import {
  normalizeNameservers,
  parsePlaceholder,
  providerTtl,
  quotedTxt,
  relativeName,
  resourceName,
  route53Txt,
  valueKey,
} from './record-values.ts';
import { optionalSecret, type SecretSource } from './secrets.ts';

/**
 * Zones and records at every DNS provider whose kind Pulumi manages (Cloudflare, Route 53, Hetzner Cloud DNS).
 * powerdns, rfc2136 and local zones are written by the controller's drivers, never by Pulumi.
 */
export const PULUMI_DNS_KINDS = ['cloudflare', 'route53', 'hcloud'] as const;
export type PulumiDnsKind = (typeof PULUMI_DNS_KINDS)[number];

export function isPulumiDnsKind(kind: string): kind is PulumiDnsKind {
  return (PULUMI_DNS_KINDS as readonly string[]).includes(kind);
}

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

interface ZoneArgs {
  provider: DnsProviderSpec;
  zone: string;
  records: RecordSet[];
  addresses: MirrorAddresses;
  /** Explicit provider resource (credentials from the stack's env var names), when there is one. */
  providerResource?: pulumi.ProviderResource;
}

/** Cloudflare zone (full setup) with multi-provider DNS on, and one DnsRecord per record value. */
export class CloudflareZone extends pulumi.ComponentResource {
  readonly nameservers: pulumi.Output<string[]>;
  readonly zoneId: pulumi.Output<string>;

  constructor(name: string, args: ZoneArgs & { ttl: number; accountId: string }, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:dns:CloudflareZone', name, {}, opts);
    const accountId = args.accountId;
    const o = { parent: this, provider: args.providerResource };
    const zone = new cloudflare.Zone(`${name}-zone`, { account: { id: accountId }, name: args.zone, type: 'full' }, o);
    // multi-provider DNS: Cloudflare activates the zone although the registrar lists other providers' nameservers,
    // and keeps apex NS records of the other providers (https://developers.cloudflare.com/dns/nameservers/nameserver-options/)
    new cloudflare.ZoneDnsSettings(`${name}-dns-settings`, { zoneId: zone.id, multiProvider: true }, o);
    for (const r of args.records) {
      for (const v of resolveValues(r, args.addresses)) {
        new cloudflare.DnsRecord(
          resourceName(name, r.name, r.type, v.key),
          {
            zoneId: zone.id,
            name: r.name,
            type: r.type,
            ttl: args.ttl,
            content: r.type === 'TXT' ? v.value.apply(quotedTxt) : v.value,
            // DNS only: a proxied record answers with Cloudflare's addresses and a fixed 300 s TTL, which defeats failover
            ...(proxiable(r.type) ? { proxied: false } : {}),
          },
          o,
        );
      }
    }
    this.zoneId = zone.id;
    this.nameservers = zone.nameServers.apply((ns) => normalizeNameservers(ns ?? []));
    this.registerOutputs({ zoneId: this.zoneId, nameservers: this.nameservers });
  }
}

function proxiable(type: RecordType): boolean {
  return type === 'A' || type === 'AAAA' || type === 'CNAME';
}

/** Route 53 hosted zone (created, or adopted when settings.hostedZoneId names one) and one Record per RRset. */
export class Route53Zone extends pulumi.ComponentResource {
  readonly nameservers: pulumi.Output<string[]>;
  readonly zoneId: pulumi.Output<string>;

  constructor(name: string, args: ZoneArgs & { ttl: number; hostedZoneId?: string }, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:dns:Route53Zone', name, {}, opts);
    const o = { parent: this, provider: args.providerResource };
    let zoneId: pulumi.Output<string>;
    let ns: pulumi.Output<string[]>;
    if (args.hostedZoneId) {
      // an existing hosted zone: creating a second one for the same name would get different nameservers
      const z = aws.route53.getZoneOutput({ zoneId: args.hostedZoneId }, o);
      zoneId = z.zoneId;
      ns = z.nameServers;
    } else {
      const z = new aws.route53.Zone(`${name}-zone`, { name: args.zone, comment: 'managed by flotilla' }, o);
      zoneId = z.zoneId;
      ns = z.nameServers;
    }
    for (const r of args.records) {
      const values = resolveValues(r, args.addresses).map((v) => (r.type === 'TXT' ? v.value.apply(route53Txt) : v.value));
      new aws.route53.Record(
        resourceName(name, r.name, r.type),
        { zoneId, name: r.name, type: r.type, ttl: args.ttl, records: pulumi.all(values).apply((vs) => [...vs].sort()) },
        o,
      );
    }
    this.zoneId = zoneId;
    this.nameservers = ns.apply((n) => normalizeNameservers(n ?? []));
    this.registerOutputs({ zoneId: this.zoneId, nameservers: this.nameservers });
  }
}

/** Hetzner Cloud DNS zone (primary) and one ZoneRrset per RRset (names relative to the zone, `@` at the apex). */
export class HcloudZone extends pulumi.ComponentResource {
  readonly nameservers: pulumi.Output<string[]>;

  constructor(name: string, args: ZoneArgs & { ttl: number }, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:dns:HcloudZone', name, {}, opts);
    const o = { parent: this, provider: args.providerResource };
    const zone = new hcloud.Zone(`${name}-zone`, { name: args.zone, mode: 'primary', ttl: args.ttl }, o);
    for (const r of args.records) {
      const values = resolveValues(r, args.addresses).map((v) => (r.type === 'TXT' ? v.value.apply(quotedTxt) : v.value));
      new hcloud.ZoneRrset(
        resourceName(name, r.name, r.type),
        {
          zone: zone.name,
          name: relativeName(r.name, args.zone),
          type: r.type,
          ttl: args.ttl,
          records: pulumi.all(values).apply((vs) => [...vs].sort().map((value) => ({ value }))),
        },
        o,
      );
    }
    this.nameservers = zone.authoritativeNameservers.apply((a) => normalizeNameservers(a?.assigneds ?? []));
    this.registerOutputs({ nameservers: this.nameservers });
  }
}

/** What Pulumi will do at one DNS provider, decided before anything is registered. */
export interface ProviderZonePlan {
  provider: DnsProviderSpec;
  kind: PulumiDnsKind;
  /** The policy TTL raised to the provider's floor. */
  ttl: number;
  /** Cloudflare: the account the zones belong to. */
  accountId?: string;
  /** Route 53: an existing hosted zone to adopt (only when the fleet has one zone). */
  hostedZoneId?: string;
}

/**
 * Which providers Pulumi manages and how (pure; throws ConfigError before any resource exists). Providers the
 * controller writes are listed in `skipped`; TTL floors and skips are in `notes`.
 */
export function planZones(providers: readonly DnsProviderSpec[], zoneCount: number, policyTtl: number) {
  const managed: ProviderZonePlan[] = [];
  const skipped: DnsProviderSpec[] = [];
  const notes: { level: 'info' | 'warn'; message: string }[] = [];
  for (const p of providers) {
    if (!isPulumiDnsKind(p.kind)) {
      skipped.push(p);
      notes.push({ level: 'info', message: `dns provider ${p.name} (${p.kind}) is written by the controller's ${p.kind} driver, not by Pulumi: skipped` });
      continue;
    }
    const { ttl, note } = providerTtl(p.kind, policyTtl);
    if (note) notes.push({ level: 'warn', message: `dns provider ${p.name}: ${note}` });
    const plan: ProviderZonePlan = { provider: p, kind: p.kind, ttl };
    if (p.kind === 'cloudflare') {
      const accountId = p.settings.accountId;
      if (typeof accountId !== 'string' || accountId === '')
        throw new ConfigError('(stack)', [{ path: `dnsProviders ${p.name}.settings.accountId`, message: 'Pulumi needs the Cloudflare account id to create the zone' }]);
      plan.accountId = accountId;
    }
    if (p.kind === 'route53' && typeof p.settings.hostedZoneId === 'string') {
      if (zoneCount === 1) plan.hostedZoneId = p.settings.hostedZoneId;
      else notes.push({ level: 'warn', message: `dns provider ${p.name}: hostedZoneId is ignored because the fleet has ${zoneCount} zones; Pulumi creates one hosted zone per zone` });
    }
    managed.push(plan);
  }
  return { managed, skipped, notes };
}

export interface PublishZonesArgs {
  plans: readonly ProviderZonePlan[];
  /** desiredRecords(...).zones: records per zone, markers included, placeholders unresolved. */
  zones: Record<string, RecordSet[]>;
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
    const providerResource = providerFor(p, args.secrets);
    out[p.name] = {};
    for (const [zone, records] of Object.entries(args.zones)) {
      const name = resourceName(p.name, zone);
      const common = { provider: p, zone, records, addresses: args.addresses, providerResource, ttl: plan.ttl };
      const z =
        plan.kind === 'cloudflare'
          ? new CloudflareZone(name, { ...common, accountId: plan.accountId! })
          : plan.kind === 'route53'
            ? new Route53Zone(name, { ...common, hostedZoneId: plan.hostedZoneId })
            : new HcloudZone(name, common);
      out[p.name][zone] = z.nameservers;
    }
  }
  return out;
}

/** An explicit provider when the stack names credentials in env vars (secrets, never plain), else the defaults. */
function providerFor(p: DnsProviderSpec, secrets: SecretSource): pulumi.ProviderResource | undefined {
  const s = p.settings;
  const name = resourceName(p.name, 'provider');
  switch (p.kind) {
    case 'cloudflare': {
      const apiToken = optionalSecret(secrets, s.tokenEnv as string | undefined);
      return new cloudflare.Provider(name, { apiToken, ...(typeof s.baseUrl === 'string' ? { baseUrl: s.baseUrl } : {}) });
    }
    case 'route53':
      return new aws.Provider(name, {
        region: typeof s.region === 'string' ? s.region : 'us-east-1',
        accessKey: optionalSecret(secrets, s.accessKeyIdEnv as string | undefined),
        secretKey: optionalSecret(secrets, s.secretAccessKeyEnv as string | undefined),
      });
    case 'hcloud':
      return new hcloud.Provider(name, { token: optionalSecret(secrets, s.tokenEnv as string | undefined) });
    default:
      return undefined;
  }
}
