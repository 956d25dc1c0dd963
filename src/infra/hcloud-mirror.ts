import * as hcloud from '@pulumi/hcloud';
import * as pulumi from '@pulumi/pulumi';
import type { MirrorSpec } from '../domain/fleet-spec.ts';
import { checkUserDataSize, cloudInitUserData, type WebServerSetup } from './web-server-setup.ts';

/** One Hetzner Cloud server serving the site with nginx, behind a firewall open on 80/443 only. */

export const DEFAULT_HCLOUD_SIZE = 'cax11';
export const DEFAULT_HCLOUD_IMAGE = 'debian-12';

/** Inbound HTTP and HTTPS from anywhere. Hetzner firewalls allow all outbound traffic when no `out` rule exists. */
export function hcloudFirewallRules(): hcloud.types.input.FirewallRule[] {
  const sourceIps = ['0.0.0.0/0', '::/0'];
  return [
    { description: 'http', direction: 'in', protocol: 'tcp', port: '80', sourceIps },
    { description: 'https', direction: 'in', protocol: 'tcp', port: '443', sourceIps },
  ];
}

export interface HcloudMirrorArgs {
  mirror: MirrorSpec;
  stack: string;
  site: WebServerSetup;
}

/** Everything the server needs, as plain data (unit-tested without Pulumi). */
export function hcloudServerPlan(args: HcloudMirrorArgs) {
  const userData = cloudInitUserData(args.site);
  checkUserDataSize(userData, 'hcloud', args.mirror.name);
  const base = `flotilla-${args.stack}-${args.mirror.name}`;
  return {
    // server names are unique per project: the digest in the name lets a replacement start before the old one stops
    serverName: `${base}-${args.site.digest.slice(0, 8)}`,
    firewallName: base,
    location: String(args.mirror.settings.region),
    serverType: String(args.mirror.settings.size ?? DEFAULT_HCLOUD_SIZE),
    image: String(args.mirror.settings.image ?? DEFAULT_HCLOUD_IMAGE),
    userData,
    labels: { 'flotilla-stack': args.stack, 'flotilla-mirror': args.mirror.name, 'flotilla-digest': args.site.digest.slice(0, 63) },
  };
}

export type HcloudServerPlan = ReturnType<typeof hcloudServerPlan>;

export class HcloudMirror extends pulumi.ComponentResource {
  readonly ipv4: pulumi.Output<string>;
  readonly ipv6: pulumi.Output<string | undefined>;
  readonly serverId: pulumi.Output<string>;

  /** `plan` comes from hcloudServerPlan (validated before any resource is registered). */
  constructor(name: string, plan: HcloudServerPlan, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:mirror:HcloudMirror', name, {}, opts);
    const fw = new hcloud.Firewall(`${name}-web`, { name: plan.firewallName, rules: hcloudFirewallRules(), labels: plan.labels }, { parent: this });
    const server = new hcloud.Server(
      `${name}-host`,
      {
        name: plan.serverName,
        serverType: plan.serverType,
        location: plan.location,
        image: plan.image,
        userData: plan.userData,
        firewallIds: [fw.id.apply((id) => Number(id))],
        publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
        labels: plan.labels,
      },
      // a changed user data replaces the server: create the new one first so DNS can move before the old one goes
      { parent: this, deleteBeforeReplace: false },
    );
    this.ipv4 = server.ipv4Address;
    this.ipv6 = server.ipv6Address.apply((a) => a || undefined);
    this.serverId = server.id;
    this.registerOutputs({ ipv4: this.ipv4, ipv6: this.ipv6, serverId: this.serverId });
  }
}
