import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { hex, octet } from '../mock-values.ts';
import { normalizeNameservers } from '../../domain/delegated-nameservers.ts';
import { resourceName, route53Txt } from '../record-values.ts';
import { optionalSecret } from '../secrets.ts';
import type { ApexNsArgs, PulumiDnsHalf, ZoneArgs, ZoneHandle } from './pulumi-dns-half.ts';

/** How the program gets the hosted zone of one zone (pure: tested without Pulumi). */
export type Route53ZoneSource = { by: 'id'; hostedZoneId: string } | { by: 'name'; name: string } | { by: 'create' };

/**
 * - `hostedZoneId` in the settings: that zone.
 * - the stack registers the domain with Route 53 Domains: registering a domain there creates its hosted zone, so it is
 *   adopted by name (a second zone of the same name would get other nameservers, and the driver refuses to pick).
 * - otherwise Pulumi creates one.
 */
export function route53ZoneSource(args: Pick<ZoneArgs, 'zone' | 'options' | 'registrars'>): Route53ZoneSource {
  if (args.options.hostedZoneId) return { by: 'id', hostedZoneId: args.options.hostedZoneId };
  if (args.registrars.includes('route53domains')) return { by: 'name', name: args.zone };
  return { by: 'create' };
}

/** Route 53 hosted zone (created or adopted), its markers as Records, and its apex NS set. */
export class Route53Zone extends pulumi.ComponentResource implements ZoneHandle {
  readonly nameservers: pulumi.Output<string[]>;
  readonly zoneId: pulumi.Output<string>;
  private readonly o: pulumi.CustomResourceOptions;

  constructor(private readonly resName: string, private readonly args: ZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:dns:Route53Zone', resName, {}, opts);
    this.o = { parent: this, provider: args.providerResource };
    const source = route53ZoneSource(args);
    let ns: pulumi.Output<string[]>;
    if (source.by === 'create') {
      const z = new aws.route53.Zone(`${resName}-zone`, { name: args.zone, comment: 'managed by flotilla' }, this.o);
      this.zoneId = z.zoneId;
      ns = z.nameServers;
    } else {
      const z = aws.route53.getZoneOutput(source.by === 'id' ? { zoneId: source.hostedZoneId } : { name: source.name, privateZone: false }, this.o);
      this.zoneId = z.zoneId;
      ns = z.nameServers;
    }
    for (const r of args.records) {
      new aws.route53.Record(
        resourceName(resName, r.name, r.type),
        { zoneId: this.zoneId, name: r.name, type: r.type, ttl: r.ttl, records: r.values.map((v) => (r.type === 'TXT' ? route53Txt(v) : v)).sort() },
        this.o,
      );
    }
    this.nameservers = ns.apply((n) => normalizeNameservers(n ?? []));
    this.registerOutputs({ zoneId: this.zoneId, nameservers: this.nameservers });
  }

  apexNameservers(a: ApexNsArgs): void {
    // Route 53 created the apex NS set with the zone: take it over (allowOverwrite) and never delete it (Route 53
    // refuses to delete a zone's apex NS; the zone's own deletion removes it)
    new aws.route53.Record(
      `${this.resName}-apex-ns`,
      { zoneId: this.zoneId, name: this.args.zone, type: 'NS', ttl: a.ttl, records: a.all, allowOverwrite: true },
      { ...this.o, retainOnDelete: true },
    );
  }
}

export const route53Pulumi: PulumiDnsHalf = {
  check(p, zoneCount) {
    const id = p.settings.hostedZoneId;
    if (typeof id !== 'string') return { options: {}, notes: [] };
    if (zoneCount === 1) return { options: { hostedZoneId: id }, notes: [] };
    return { options: {}, notes: [`dns provider ${p.name}: hostedZoneId is ignored because the fleet has ${zoneCount} zones; Pulumi creates (or adopts by name) one hosted zone per zone`] };
  },
  providerResource(name, p, secrets) {
    const s = p.settings;
    // no key variables named: the AWS provider's own default chain (environment, SSO, profiles, instance role)
    return new aws.Provider(name, {
      region: typeof s.region === 'string' ? s.region : 'us-east-1',
      accessKey: optionalSecret(secrets, s.accessKeyIdEnv as string | undefined),
      secretKey: optionalSecret(secrets, s.secretAccessKeyEnv as string | undefined),
      token: optionalSecret(secrets, s.sessionTokenEnv as string | undefined),
      ...(typeof s.profile === 'string' ? { profile: s.profile } : {}),
    });
  },
  zone: (name, args) => new Route53Zone(name, args),
  mocks: {
    resources: {
      'aws:route53/zone:Zone': (name, inputs) => {
        const n = octet(name);
        const zoneId = `Z${hex(name, 20).toUpperCase()}`;
        return { id: zoneId, state: { ...inputs, zoneId, nameServers: [`ns-${n}.awsdns-${n % 64}.org`, `ns-${n + 512}.awsdns-${(n + 1) % 64}.co.uk`, `ns-${n + 1024}.awsdns-${(n + 2) % 64}.com`, `ns-${n + 1536}.awsdns-${(n + 3) % 64}.net`] } };
      },
    },
    calls: {
      // the hosted zone Route 53 Domains created at registration (by name), or the one hostedZoneId names
      'aws:route53/getZone:getZone': (inputs) => {
        const zoneId = String(inputs.zoneId ?? `Z${hex(String(inputs.name ?? 'mock'), 20).toUpperCase()}`);
        const n = octet(zoneId);
        return { id: zoneId, zoneId, name: String(inputs.name ?? 'mock.invalid'), nameServers: [`ns-${n}.awsdns-${n % 64}.org`, `ns-${n + 512}.awsdns-${(n + 1) % 64}.co.uk`, `ns-${n + 1024}.awsdns-${(n + 2) % 64}.com`, `ns-${n + 1536}.awsdns-${(n + 3) % 64}.net`] };
      },
    },
    keyInputs: {
      'aws:route53/zone:Zone': ['name'],
      'aws:route53/record:Record': ['name', 'type', 'records', 'ttl'],
    },
  },
};
