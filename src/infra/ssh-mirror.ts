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
  secrets: SecretSource;
}

/** Connection and scripts as plain data (the key stays out: it is added as a secret by the component). */
export function sshMirrorPlan(args: Omit<SshMirrorArgs, 'secrets'>) {
  const m = args.mirror;
  const host = m.ipv4 ?? m.ipv6;
  if (!host) throw new ConfigError('(stack)', [{ path: `mirror ${m.name}.ipv4`, message: 'an ssh mirror needs its address' }]);
  const keyEnv = m.settings.sshKeyEnv;
  if (typeof keyEnv !== 'string' || keyEnv === '')
    throw new ConfigError('(stack)', [{ path: `mirror ${m.name}.sshKeyEnv`, message: 'an ssh mirror needs sshKeyEnv: the environment variable holding its private key' }]);
  // a fresh staging path per digest: CopyToRemote copies a directory INTO an existing one, so never reuse a path
  const stagingDir = `/tmp/flotilla-site-${args.site.digest.slice(0, 16)}`;
  return {
    host,
    user: String(m.settings.sshUser ?? 'root'),
    keyEnv,
    stagingDir,
    install: sshInstallScript({ ...args.site, stagingDir }),
    // deleting the mirror takes our site out of nginx; nginx itself stays (the box may serve other things)
    remove: `if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; $SUDO rm -f /etc/nginx/sites-enabled/flotilla ${NGINX_SITE}; $SUDO sh -c 'nginx -t && (systemctl reload nginx || service nginx reload)' || true`,
  };
}

export class SshMirror extends pulumi.ComponentResource {
  readonly ipv4: pulumi.Output<string | undefined>;
  readonly ipv6: pulumi.Output<string | undefined>;

  constructor(name: string, args: SshMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:mirror:SshMirror', name, {}, opts);
    const plan = sshMirrorPlan(args);
    const connection = {
      host: plan.host,
      user: plan.user,
      privateKey: requiredSecret(args.secrets, plan.keyEnv, `the private key of ssh mirror ${args.mirror.name}`),
    };
    const copy = new command.remote.CopyToRemote(
      `${name}-content`,
      { connection, source: new pulumi.asset.FileArchive(args.contentDir), remotePath: plan.stagingDir, triggers: [args.site.digest] },
      { parent: this },
    );
    new command.remote.Command(
      `${name}-nginx`,
      { connection, create: plan.install, delete: plan.remove, triggers: [args.site.digest, copy.id] },
      { parent: this, dependsOn: [copy] },
    );
    this.ipv4 = pulumi.output(args.mirror.ipv4);
    this.ipv6 = pulumi.output(args.mirror.ipv6);
    this.registerOutputs({ ipv4: this.ipv4, ipv6: this.ipv6 });
  }
}
