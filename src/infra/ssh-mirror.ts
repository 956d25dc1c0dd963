import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../domain/errors.ts';
import type { MirrorSpec } from '../domain/fleet-spec.ts';
import { mirrorSshUser } from '../domain/mirror-login.ts';
import { requiredSecret, type SecretSource } from './secrets.ts';
import type { SiteDeployPlan } from './site-deploy.ts';
import { SiteDeployStep } from './site-deploy-step.ts';

/** A box you run, reached over SSH at the address in the stack: the same deploy step as every cloud host. */

/** Connection as plain data (the key stays out: it is read by sshPrivateKey and passed as a secret). */
export function sshMirrorPlan(args: { mirror: MirrorSpec }) {
  const m = args.mirror;
  const host = m.ipv4 ?? m.ipv6;
  if (!host) throw new ConfigError('(stack)', [{ path: `mirror ${m.name}.ipv4`, message: 'an ssh mirror needs its address' }]);
  const keyEnv = m.settings.sshKeyEnv;
  if (typeof keyEnv !== 'string' || keyEnv === '')
    throw new ConfigError('(stack)', [{ path: `mirror ${m.name}.sshKeyEnv`, message: 'an ssh mirror needs sshKeyEnv: the environment variable holding its private key' }]);
  return { mirror: m.name, host, ipv4: m.ipv4, ipv6: m.ipv6, user: mirrorSshUser(m), keyEnv, hostId: `ssh:${host}` };
}

export type SshMirrorPlan = ReturnType<typeof sshMirrorPlan>;

/** The mirror's private key from the env var its spec names, as a Pulumi secret (ConfigError when unset). */
export function sshPrivateKey(plan: SshMirrorPlan, secrets: SecretSource): pulumi.Output<string> {
  return requiredSecret(secrets, plan.keyEnv, `the private key of ssh mirror ${plan.mirror}`);
}

export class SshMirror extends pulumi.ComponentResource {
  readonly ipv4: pulumi.Output<string | undefined>;
  readonly ipv6: pulumi.Output<string | undefined>;
  readonly digest: pulumi.Output<string>;

  constructor(name: string, args: { plan: SshMirrorPlan; deploy: SiteDeployPlan; privateKey: pulumi.Output<string> }, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:mirror:SshMirror', name, {}, opts);
    const { plan } = args;
    const step = new SiteDeployStep(`${name}-site`, { plan: args.deploy, host: plan.host, user: plan.user, privateKey: args.privateKey, hostId: plan.hostId }, { parent: this });
    this.ipv4 = pulumi.output(plan.ipv4);
    this.ipv6 = pulumi.output(plan.ipv6);
    this.digest = step.digest;
    this.registerOutputs({ ipv4: this.ipv4, ipv6: this.ipv6, digest: this.digest });
  }
}
