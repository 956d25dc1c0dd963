// @pulumi/command is Pulumi's own, maintained package for running commands and copying files over SSH as
// resources with a lifecycle (create/update/delete, triggers, secret connection); hand-rolled dynamic providers would
// redo that without the engine's secret handling.
import * as command from '@pulumi/command';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../domain/errors.ts';
import type { MirrorSpec } from '../domain/fleet-spec.ts';
import { requiredSecret, type SecretSource } from './secrets.ts';
import { NGINX_SITE, sshInstallScript, type WebServerSetup } from './web-server-setup.ts';

/** A box we reach over SSH: the site directory is copied to it, then a script installs and configures nginx. */

export interface SshMirrorArgs {
  mirror: MirrorSpec;
  stack: string;
  /** The site directory on this machine (FleetSpec.site.contentDir). */
  contentDir: string;
  site: Omit<WebServerSetup, 'files'>;
}

/** Connection and scripts as plain data (the key stays out: it is read by sshPrivateKey and passed as a secret). */
export function sshMirrorPlan(args: SshMirrorArgs) {
  const m = args.mirror;
  const host = m.ipv4 ?? m.ipv6;
  if (!host) throw new ConfigError('(stack)', [{ path: `mirror ${m.name}.ipv4`, message: 'an ssh mirror needs its address' }]);
  const keyEnv = m.settings.sshKeyEnv;
  if (typeof keyEnv !== 'string' || keyEnv === '')
    throw new ConfigError('(stack)', [{ path: `mirror ${m.name}.sshKeyEnv`, message: 'an ssh mirror needs sshKeyEnv: the environment variable holding its private key' }]);
  // a fresh staging path per digest: CopyToRemote copies a directory INTO an existing one, so never reuse a path
  const stagingDir = `/tmp/flotilla-site-${args.site.digest.slice(0, 16)}`;
  return {
    mirror: m.name,
    host,
    ipv4: m.ipv4,
    ipv6: m.ipv6,
    user: String(m.settings.sshUser ?? 'root'),
    keyEnv,
    contentDir: args.contentDir,
    digest: args.site.digest,
    stagingDir,
    install: sshInstallScript({ ...args.site, stagingDir }),
    // deleting the mirror takes our site out of nginx; nginx itself stays (the box may serve other things)
    remove: `if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; $SUDO rm -f /etc/nginx/sites-enabled/flotilla ${NGINX_SITE}; $SUDO sh -c 'nginx -t && (systemctl reload nginx || service nginx reload)' || true`,
  };
}

export type SshMirrorPlan = ReturnType<typeof sshMirrorPlan>;

/** The mirror's private key from the env var its spec names, as a Pulumi secret (ConfigError when unset). */
export function sshPrivateKey(plan: SshMirrorPlan, secrets: SecretSource): pulumi.Output<string> {
  return requiredSecret(secrets, plan.keyEnv, `the private key of ssh mirror ${plan.mirror}`);
}

export class SshMirror extends pulumi.ComponentResource {
  readonly ipv4: pulumi.Output<string | undefined>;
  readonly ipv6: pulumi.Output<string | undefined>;

  /** `plan` from sshMirrorPlan and `privateKey` from sshPrivateKey, both obtained before any resource is registered. */
  constructor(name: string, args: { plan: SshMirrorPlan; privateKey: pulumi.Output<string> }, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:mirror:SshMirror', name, {}, opts);
    const { plan } = args;
    const connection = { host: plan.host, user: plan.user, privateKey: args.privateKey };
    const copy = new command.remote.CopyToRemote(
      `${name}-content`,
      { connection, source: new pulumi.asset.FileArchive(plan.contentDir), remotePath: plan.stagingDir, triggers: [plan.digest] },
      { parent: this },
    );
    new command.remote.Command(
      `${name}-nginx`,
      { connection, create: plan.install, delete: plan.remove, triggers: [plan.digest, copy.id] },
      { parent: this, dependsOn: [copy] },
    );
    this.ipv4 = pulumi.output(plan.ipv4);
    this.ipv6 = pulumi.output(plan.ipv6);
    this.registerOutputs({ ipv4: this.ipv4, ipv6: this.ipv6 });
  }
}
