import * as hcloud from '@pulumi/hcloud';
import * as pulumi from '@pulumi/pulumi';
import type { MirrorSpec } from '../domain/fleet-spec.ts';
import { mirrorSshUser } from '../domain/mirror-login.ts';
import type { SiteDeployPlan } from './site-deploy.ts';
import { SiteDeployStep } from './site-deploy-step.ts';
import { checkUserDataSize, cloudInitUserData } from './web-server-setup.ts';

export const DEFAULT_HCLOUD_SIZE = 'cax11';
export const DEFAULT_HCLOUD_IMAGE = 'debian-12';

/** Inbound HTTP, HTTPS and SSH (the deploy step). Hetzner firewalls allow all outbound traffic when no `out` rule exists. */
export function hcloudFirewallRules(): hcloud.types.input.FirewallRule[] {
  const sourceIps = ['0.0.0.0/0', '::/0'];
  return [
    { description: 'http', direction: 'in', protocol: 'tcp', port: '80', sourceIps },
    { description: 'https', direction: 'in', protocol: 'tcp', port: '443', sourceIps },
    { description: 'ssh (flotilla deploy step)', direction: 'in', protocol: 'tcp', port: '22', sourceIps },
  ];
}

export interface HcloudMirrorArgs {
  mirror: MirrorSpec;
  stack: string;
  /** The deploy key's public half: Hetzner's images give it to root. */
  sshPublicKey: string;
}

/** Everything the server needs, as plain data (unit-tested without Pulumi). */
export function hcloudServerPlan(args: HcloudMirrorArgs) {
  const userData = cloudInitUserData({ sshPublicKey: args.sshPublicKey, stack: args.stack, mirror: args.mirror.name });
  checkUserDataSize(userData, 'hcloud', args.mirror.name);
  const base = `flotilla-${args.stack}-${args.mirror.name}`;
  return {
    serverName: base,
    firewallName: base,
    ipName: base,
    location: String(args.mirror.settings.region),
    serverType: String(args.mirror.settings.size ?? DEFAULT_HCLOUD_SIZE),
    image: String(args.mirror.settings.image ?? DEFAULT_HCLOUD_IMAGE),
    userData,
    sshUser: mirrorSshUser(args.mirror),
    labels: { 'flotilla-stack': args.stack, 'flotilla-mirror': args.mirror.name },
  };
}

export type HcloudServerPlan = ReturnType<typeof hcloudServerPlan>;

/**
 * The stack's deploy key registered with Hetzner (one per stack: Hetzner refuses a second key with the same
 * fingerprint). Servers created with it get it for root, whatever the image's cloud-init default user is.
 */
export function hcloudDeployKey(stack: string, sshPublicKey: string): hcloud.SshKey {
  return new hcloud.SshKey(`hcloud-deploy-key`, { name: `flotilla-${stack}-deploy`, publicKey: sshPublicKey, labels: { 'flotilla-stack': stack } });
}

/**
 * One Hetzner Cloud server behind its firewall, on Primary IPs of its own (IPv4 and IPv6, autoDelete off: a
 * replacement keeps the addresses DNS points at), and the site deployed over SSH (site-deploy-step.ts).
 */
export class HcloudMirror extends pulumi.ComponentResource {
  readonly ipv4: pulumi.Output<string>;
  readonly ipv6: pulumi.Output<string | undefined>;
  readonly serverId: pulumi.Output<string>;
  readonly digest: pulumi.Output<string>;

  /** `plan` comes from hcloudServerPlan, `deploy` from siteDeployPlan (both validated before any resource is registered). */
  constructor(
    name: string,
    args: { plan: HcloudServerPlan; deploy: SiteDeployPlan; privateKey: pulumi.Output<string>; sshKey: hcloud.SshKey },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('flotilla:mirror:HcloudMirror', name, {}, opts);
    const { plan } = args;
    const fw = new hcloud.Firewall(`${name}-web`, { name: plan.firewallName, rules: hcloudFirewallRules(), labels: plan.labels }, { parent: this });
    const ip = (family: 'ipv4' | 'ipv6') =>
      new hcloud.PrimaryIp(`${name}-${family}`, { name: `${plan.ipName}-${family}`, type: family, location: plan.location, assigneeType: 'server', autoDelete: false, labels: plan.labels }, { parent: this });
    const v4 = ip('ipv4');
    const v6 = ip('ipv6');
    const server = new hcloud.Server(
      `${name}-host`,
      {
        name: plan.serverName,
        serverType: plan.serverType,
        location: plan.location,
        image: plan.image,
        userData: plan.userData,
        sshKeys: [args.sshKey.id],
        firewallIds: [fw.id.apply((id) => Number(id))],
        publicNets: [{ ipv4Enabled: true, ipv4: v4.id.apply((id) => Number(id)), ipv6Enabled: true, ipv6: v6.id.apply((id) => Number(id)) }],
        labels: plan.labels,
      },
      // a Primary IP belongs to one server at a time, so a replacement must free it first; DNS keeps pointing at the
      // address, and the controller publishes the new server once it passes `rise` probes
      { parent: this, deleteBeforeReplace: true },
    );
    const step = new SiteDeployStep(`${name}-site`, { plan: args.deploy, host: v4.ipAddress, user: plan.sshUser, privateKey: args.privateKey, hostId: server.id, dependsOn: [server] }, { parent: this });
    this.ipv4 = v4.ipAddress;
    this.ipv6 = server.ipv6Address.apply((a) => a || undefined);
    this.serverId = server.id;
    this.digest = step.digest;
    this.registerOutputs({ ipv4: this.ipv4, ipv6: this.ipv6, serverId: this.serverId, digest: this.digest });
  }
}
