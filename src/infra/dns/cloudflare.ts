import * as cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../../domain/errors.ts';
import type { RecordType } from '../../domain/records.ts';
import { hex } from '../mock-values.ts';
import { normalizeNameservers, quotedTxt, resourceName } from '../record-values.ts';
import { optionalSecret } from '../secrets.ts';
import { resolveValues, type PulumiDnsHalf, type ZoneArgs } from './pulumi-dns-half.ts';

/** Cloudflare zone (full setup) with multi-provider DNS on, and one DnsRecord per record value. */
export class CloudflareZone extends pulumi.ComponentResource {
  readonly nameservers: pulumi.Output<string[]>;
  readonly zoneId: pulumi.Output<string>;

  constructor(name: string, args: ZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:dns:CloudflareZone', name, {}, opts);
    const o = { parent: this, provider: args.providerResource };
    const zone = new cloudflare.Zone(`${name}-zone`, { account: { id: args.options.accountId! }, name: args.zone, type: 'full' }, o);
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
            ttl: r.ttl,
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

export const cloudflarePulumi: PulumiDnsHalf = {
  check(p) {
    const accountId = p.settings.accountId;
    if (typeof accountId !== 'string' || accountId === '')
      throw new ConfigError('(stack)', [{ path: `dnsProviders ${p.name}.settings.accountId`, message: 'Pulumi needs the Cloudflare account id to create the zone' }]);
    return { options: { accountId }, notes: [] };
  },
  providerResource(name, p, secrets) {
    const s = p.settings;
    const apiToken = optionalSecret(secrets, s.tokenEnv as string | undefined);
    return new cloudflare.Provider(name, { apiToken, ...(typeof s.baseUrl === 'string' ? { baseUrl: s.baseUrl } : {}) });
  },
  zone: (name, args) => new CloudflareZone(name, args),
  mocks: {
    resources: {
      'cloudflare:index/zone:Zone': (name, inputs) => ({ id: hex(name, 32), state: { ...inputs, nameServers: ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'], status: 'pending' } }),
    },
    keyInputs: {
      'cloudflare:index/zone:Zone': ['name', 'type'],
      'cloudflare:index/zoneDnsSettings:ZoneDnsSettings': ['multiProvider'],
      'cloudflare:index/dnsRecord:DnsRecord': ['name', 'type', 'content', 'ttl'],
    },
  },
};
