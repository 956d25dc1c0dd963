import * as hcloud from '@pulumi/hcloud';
import * as pulumi from '@pulumi/pulumi';
import { octet } from '../mock-values.ts';
import { normalizeNameservers } from '../../domain/delegated-nameservers.ts';
import { quotedTxt, relativeName, resourceName } from '../record-values.ts';
import { optionalSecret } from '../secrets.ts';
import type { ApexNsArgs, PulumiDnsHalf, ZoneArgs, ZoneHandle } from './pulumi-dns-half.ts';

/** Hetzner Cloud DNS zone (primary), its markers as ZoneRrsets (names relative to the zone), and its apex NS RRset. */
export class HcloudZone extends pulumi.ComponentResource implements ZoneHandle {
  readonly nameservers: pulumi.Output<string[]>;
  private readonly zoneName: pulumi.Output<string>;
  private readonly o: pulumi.CustomResourceOptions;

  constructor(private readonly resName: string, args: ZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:dns:HcloudZone', resName, {}, opts);
    this.o = { parent: this, provider: args.providerResource };
    const zone = new hcloud.Zone(`${resName}-zone`, { name: args.zone, mode: 'primary', ttl: args.ttl }, this.o);
    for (const r of args.records) {
      new hcloud.ZoneRrset(
        resourceName(resName, r.name, r.type),
        {
          zone: zone.name,
          name: relativeName(r.name, args.zone),
          type: r.type,
          ttl: r.ttl,
          records: r.values.map((v) => (r.type === 'TXT' ? quotedTxt(v) : v)).sort().map((value) => ({ value })),
        },
        this.o,
      );
    }
    this.zoneName = zone.name;
    this.nameservers = zone.authoritativeNameservers.apply((a) => normalizeNameservers(a?.assigneds ?? []));
    this.registerOutputs({ nameservers: this.nameservers });
  }

  apexNameservers(a: ApexNsArgs): void {
    // the zone's own apex NS RRset, replaced by the merged list (absolute names: a trailing dot); the zone's
    // deletion removes it, so Pulumi forgets it rather than deleting the apex NS of a zone that stays
    new hcloud.ZoneRrset(
      `${this.resName}-apex-ns`,
      { zone: this.zoneName, name: '@', type: 'NS', ttl: a.ttl, records: a.all.apply((l) => l.map((n) => ({ value: `${n}.` }))) },
      { ...this.o, retainOnDelete: true },
    );
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
