import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../domain/errors.ts';
import type { MirrorSpec } from '../domain/fleet-spec.ts';
import { mirrorSshUser } from '../domain/mirror-login.ts';
import type { SiteDeployPlan } from './site-deploy.ts';
import { SiteDeployStep } from './site-deploy-step.ts';
import { checkUserDataSize, cloudInitUserData } from './web-server-setup.ts';

export const DEFAULT_AWS_SIZE = 't4g.micro';

/** Graviton families carry a `g` after the generation digit (t4g, m7gd, c6gn) or are a1: those are arm64. */
export function awsArchitecture(instanceType: string): 'arm64' | 'x86_64' {
  const family = instanceType.split('.')[0].toLowerCase();
  return family === 'a1' || /^[a-z]+\d+g[a-z]*$/.test(family) ? 'arm64' : 'x86_64';
}

/** Publishers' AWS account ids for the official images. */
const DEBIAN_OWNER = '136693071363';
const CANONICAL_OWNER = '099720109477';

export type AmiChoice = { ami: string } | { lookup: aws.ec2.GetAmiArgs };

/**
 * The image for a mirror: `image: ami-…` is used as is; `debian` (default) or `ubuntu` picks the newest official
 * Debian 12 / Ubuntu 24.04 image for the instance's architecture.
 */
export function amiChoice(mirror: Pick<MirrorSpec, 'name' | 'settings'>, instanceType: string): AmiChoice {
  const image = String(mirror.settings.image ?? 'debian').toLowerCase();
  const arch = awsArchitecture(instanceType);
  const deb = arch === 'arm64' ? 'arm64' : 'amd64';
  if (image.startsWith('ami-')) return { ami: image };
  const filters = (name: string) => [
    { name: 'name', values: [name] },
    { name: 'architecture', values: [arch] },
    { name: 'virtualization-type', values: ['hvm'] },
  ];
  if (image === 'debian' || image === 'debian-12')
    return { lookup: { mostRecent: true, owners: [DEBIAN_OWNER], filters: filters(`debian-12-${deb}-*`) } };
  if (image === 'ubuntu' || image === 'ubuntu-24.04')
    return { lookup: { mostRecent: true, owners: [CANONICAL_OWNER], filters: filters(`ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-${deb}-server-*`) } };
  throw new ConfigError('(stack)', [
    { path: `mirror ${mirror.name}.image`, message: `expected debian, ubuntu or an AMI id (ami-…) for an aws mirror, found ${JSON.stringify(mirror.settings.image)}` },
  ]);
}

/** HTTP and HTTPS from anywhere, SSH for the deploy step (IPv4 and IPv6); everything out (nginx from the archive). */
export function awsSecurityGroupRules(): Pick<aws.ec2.SecurityGroupArgs, 'ingress' | 'egress'> {
  const world = { cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] };
  return {
    ingress: [
      { description: 'http', protocol: 'tcp', fromPort: 80, toPort: 80, ...world },
      { description: 'https', protocol: 'tcp', fromPort: 443, toPort: 443, ...world },
      { description: 'ssh (flotilla deploy step)', protocol: 'tcp', fromPort: 22, toPort: 22, ...world },
    ],
    egress: [{ description: 'all out', protocol: '-1', fromPort: 0, toPort: 0, ...world }],
  };
}

/** The login the official images give the key in user data: Debian `admin`, Ubuntu `ubuntu`; an AMI id: `sshUser` or admin. */
export function awsSshUser(mirror: Pick<MirrorSpec, 'settings'>): string {
  return mirrorSshUser({ provider: 'aws', settings: mirror.settings });
}

export interface AwsMirrorArgs {
  mirror: MirrorSpec;
  stack: string;
  /** The deploy key's public half (deploy-key.ts), for the image's default user. */
  sshPublicKey: string;
}

/** Everything the instance needs, as plain data (unit-tested without Pulumi). */
export function awsInstancePlan(args: AwsMirrorArgs) {
  const region = String(args.mirror.settings.region);
  const instanceType = String(args.mirror.settings.size ?? DEFAULT_AWS_SIZE);
  const userData = cloudInitUserData({ sshPublicKey: args.sshPublicKey, stack: args.stack, mirror: args.mirror.name });
  checkUserDataSize(userData, 'aws', args.mirror.name);
  return {
    region,
    instanceType,
    architecture: awsArchitecture(instanceType),
    ami: amiChoice(args.mirror, instanceType),
    userData,
    sshUser: awsSshUser(args.mirror),
    description: `flotilla ${args.stack} ${args.mirror.name}: web and ssh`,
    tags: { Name: `flotilla-${args.stack}-${args.mirror.name}`, 'flotilla:stack': args.stack, 'flotilla:mirror': args.mirror.name },
  };
}

export type AwsInstancePlan = ReturnType<typeof awsInstancePlan>;

/**
 * One EC2 instance behind its security group, reached at an Elastic IP (a stop/start or a replacement keeps the
 * address DNS points at), and the site deployed over SSH (site-deploy-step.ts).
 */
export class AwsMirror extends pulumi.ComponentResource {
  readonly ipv4: pulumi.Output<string>;
  /** First IPv6 address, when the subnet gives the instance one (default VPCs usually do not). */
  readonly ipv6: pulumi.Output<string | undefined>;
  readonly instanceId: pulumi.Output<string>;
  readonly digest: pulumi.Output<string>;

  /** `plan` comes from awsInstancePlan, `deploy` from siteDeployPlan (both validated before any resource is registered). */
  constructor(name: string, args: { plan: AwsInstancePlan; deploy: SiteDeployPlan; privateKey: pulumi.Output<string> }, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:mirror:AwsMirror', name, {}, opts);
    const { plan } = args;
    const sg = new aws.ec2.SecurityGroup(`${name}-web`, { region: plan.region, description: plan.description, ...awsSecurityGroupRules(), tags: plan.tags }, { parent: this });
    const ami = 'ami' in plan.ami ? pulumi.output(plan.ami.ami) : aws.ec2.getAmiOutput({ ...plan.ami.lookup, region: plan.region }, { parent: this }).id;
    const instance = new aws.ec2.Instance(
      `${name}-host`,
      {
        region: plan.region,
        ami,
        instanceType: plan.instanceType,
        vpcSecurityGroupIds: [sg.id],
        associatePublicIpAddress: true,
        userData: plan.userData,
        // cloud-init runs once: a new key needs a new host (created before the old one goes)
        userDataReplaceOnChange: true,
        metadataOptions: { httpTokens: 'required' },
        tags: plan.tags,
      },
      // a new AMI release must not replace a serving host by itself
      { parent: this, ignoreChanges: ['ami'] },
    );
    // the address DNS points at outlives the instance: a replacement takes it over
    const eip = new aws.ec2.Eip(`${name}-ip`, { region: plan.region, domain: 'vpc', tags: plan.tags }, { parent: this, protect: false });
    const assoc = new aws.ec2.EipAssociation(
      `${name}-ip-assoc`,
      // a replacement instance takes the address over before the old one goes (create-before-replace)
      { region: plan.region, allocationId: eip.allocationId, instanceId: instance.id, allowReassociation: true },
      { parent: this },
    );
    const step = new SiteDeployStep(
      `${name}-site`,
      { plan: args.deploy, host: eip.publicIp, user: plan.sshUser, privateKey: args.privateKey, hostId: instance.id, dependsOn: [assoc] },
      { parent: this },
    );
    this.ipv4 = eip.publicIp;
    this.ipv6 = instance.ipv6Addresses.apply((a) => a?.[0]);
    this.instanceId = instance.id;
    this.digest = step.digest;
    this.registerOutputs({ ipv4: this.ipv4, ipv6: this.ipv6, instanceId: this.instanceId, digest: this.digest });
  }
}
