import * as cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../../domain/errors.ts';
import { hex } from '../mock-values.ts';
import { normalizeNameservers } from '../../domain/delegated-nameservers.ts';
import { quotedTxt, resourceName, valueKey } from '../record-values.ts';
import { optionalSecret } from '../secrets.ts';
import type { ApexNsArgs, PulumiDnsHalf, ZoneArgs, ZoneHandle } from './pulumi-dns-half.ts';

/**
 * Cloudflare zone (full setup) with multi-provider DNS on, its ownership markers (one DnsRecord per value), and the
 * other providers' nameservers as apex NS records (Cloudflare serves its own assigned ones itself).
 */
export class CloudflareZone extends pulumi.ComponentResource implements ZoneHandle {
  readonly nameservers: pulumi.Output<string[]>;
  readonly zoneId: pulumi.Output<string>;
  private readonly o: pulumi.CustomResourceOptions;

  constructor(private readonly resName: string, private readonly args: ZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:dns:CloudflareZone', resName, {}, opts);
    this.o = { parent: this, provider: args.providerResource };
    const zone = new cloudflare.Zone(`${resName}-zone`, { account: { id: args.options.accountId! }, name: args.zone, type: 'full' }, this.o);
    // multi-provider DNS: Cloudflare activates the zone although the registrar lists other providers' nameservers,
    // and serves apex NS records of the other providers (https://developers.cloudflare.com/dns/nameservers/nameserver-options/)
    new cloudflare.ZoneDnsSettings(`${resName}-dns-settings`, { zoneId: zone.id, multiProvider: true }, this.o);
    for (const r of args.records) {
      for (const v of r.values) {
        new cloudflare.DnsRecord(
          resourceName(resName, r.name, r.type, valueKey(r.type, v)),
          { zoneId: zone.id, name: r.name, type: r.type, ttl: r.ttl, content: r.type === 'TXT' ? quotedTxt(v) : v },
          this.o,
        );
      }
    }
    this.zoneId = zone.id;
    this.nameservers = zone.nameServers.apply((ns) => normalizeNameservers(ns ?? []));
    this.registerOutputs({ zoneId: this.zoneId, nameservers: this.nameservers });
  }

  apexNameservers(a: ApexNsArgs): void {
    for (const other of a.others) {
      other.names.forEach((ns, i) => {
        new cloudflare.DnsRecord(resourceName(this.resName, 'apex-ns', other.provider, String(i)), { zoneId: this.zoneId, name: this.args.zone, type: 'NS', ttl: a.ttl, content: ns }, this.o);
      });
    }
  }
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
