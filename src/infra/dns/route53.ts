import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { hex, octet } from '../mock-values.ts';
import { normalizeNameservers, resourceName, route53Txt } from '../record-values.ts';
import { optionalSecret } from '../secrets.ts';
import { resolveValues, type PulumiDnsHalf, type ZoneArgs } from './pulumi-dns-half.ts';

/** Route 53 hosted zone (created, or adopted when options.hostedZoneId names one) and one Record per RRset. */
export class Route53Zone extends pulumi.ComponentResource {
  readonly nameservers: pulumi.Output<string[]>;
  readonly zoneId: pulumi.Output<string>;

  constructor(name: string, args: ZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:dns:Route53Zone', name, {}, opts);
    const o = { parent: this, provider: args.providerResource };
    let zoneId: pulumi.Output<string>;
    let ns: pulumi.Output<string[]>;
    if (args.options.hostedZoneId) {
      // an existing hosted zone: creating a second one for the same name would get different nameservers
      const z = aws.route53.getZoneOutput({ zoneId: args.options.hostedZoneId }, o);
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
        { zoneId, name: r.name, type: r.type, ttl: r.ttl, records: pulumi.all(values).apply((vs) => [...vs].sort()) },
        o,
      );
    }
    this.zoneId = zoneId;
    this.nameservers = ns.apply((n) => normalizeNameservers(n ?? []));
    this.registerOutputs({ zoneId: this.zoneId, nameservers: this.nameservers });
  }
}

export const route53Pulumi: PulumiDnsHalf = {
  check(p, zoneCount) {
    const id = p.settings.hostedZoneId;
    if (typeof id !== 'string') return { options: {}, notes: [] };
    if (zoneCount === 1) return { options: { hostedZoneId: id }, notes: [] };
    return { options: {}, notes: [`dns provider ${p.name}: hostedZoneId is ignored because the fleet has ${zoneCount} zones; Pulumi creates one hosted zone per zone`] };
  },
  providerResource(name, p, secrets) {
    const s = p.settings;
    return new aws.Provider(name, {
      region: typeof s.region === 'string' ? s.region : 'us-east-1',
      accessKey: optionalSecret(secrets, s.accessKeyIdEnv as string | undefined),
      secretKey: optionalSecret(secrets, s.secretAccessKeyEnv as string | undefined),
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
      'aws:route53/getZone:getZone': (inputs) => {
        const zoneId = String(inputs.zoneId ?? 'ZMOCK');
        return { id: zoneId, zoneId, name: 'mock.invalid', nameServers: ['ns-1.awsdns-01.org', 'ns-2.awsdns-02.com'] };
      },
    },
    keyInputs: {
      'aws:route53/zone:Zone': ['name'],
      'aws:route53/record:Record': ['name', 'type', 'records', 'ttl'],
    },
  },
};
