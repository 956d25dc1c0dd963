import * as hcloud from '@pulumi/hcloud';
import * as pulumi from '@pulumi/pulumi';
import { octet } from '../mock-values.ts';
import { normalizeNameservers, quotedTxt, relativeName, resourceName } from '../record-values.ts';
import { optionalSecret } from '../secrets.ts';
import { resolveValues, type PulumiDnsHalf, type ZoneArgs } from './pulumi-dns-half.ts';

/** Hetzner Cloud DNS zone (primary) and one ZoneRrset per RRset (names relative to the zone, `@` at the apex). */
export class HcloudZone extends pulumi.ComponentResource {
  readonly nameservers: pulumi.Output<string[]>;

  constructor(name: string, args: ZoneArgs, opts?: pulumi.ComponentResourceOptions) {
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
          ttl: r.ttl,
          records: pulumi.all(values).apply((vs) => [...vs].sort().map((value) => ({ value }))),
        },
        o,
      );
    }
    this.nameservers = zone.authoritativeNameservers.apply((a) => normalizeNameservers(a?.assigneds ?? []));
    this.registerOutputs({ nameservers: this.nameservers });
  }
}

export const hcloudPulumi: PulumiDnsHalf = {
  check: () => ({ options: {}, notes: [] }),
  providerResource: (name, p, secrets) => new hcloud.Provider(name, { token: optionalSecret(secrets, p.settings.tokenEnv as string | undefined) }),
  zone: (name, args) => new HcloudZone(name, args),
  mocks: {
    resources: {
      'hcloud:index/zone:Zone': (name, inputs) => ({
        id: String(30_000_000 + octet(name)),
        state: { ...inputs, authoritativeNameservers: { assigneds: ['hydrogen.ns.hetzner.com.', 'oxygen.ns.hetzner.com.', 'helium.ns.hetzner.de.'] } },
      }),
    },
    keyInputs: {
      'hcloud:index/zone:Zone': ['name', 'mode'],
      'hcloud:index/zoneRrset:ZoneRrset': ['zone', 'name', 'type', 'records', 'ttl'],
    },
  },
};
