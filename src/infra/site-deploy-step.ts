// @pulumi/command is Pulumi's own, maintained package for copying files and running commands over SSH as resources
// with a lifecycle (create/update/delete, triggers, secret connection).
import * as command from '@pulumi/command';
import * as pulumi from '@pulumi/pulumi';
import { deployScript, removeScript, type SiteDeployPlan } from './site-deploy.ts';

export interface SiteDeployStepArgs {
  plan: SiteDeployPlan;
  /** Address to reach the host at (the stable address for cloud hosts). */
  host: pulumi.Input<string>;
  user: string;
  privateKey: pulumi.Output<string>;
  /**
   * The host's identity (instance id, server id, `ssh:<address>`): a new host replaces the copy and the command, and
   * the delete script recognises the host it deployed.
   */
  hostId: pulumi.Input<string>;
  /** Resources the host must have before the first SSH (an address association, a firewall). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** One deploy step per mirror: CopyToRemote of the site directory, then the install Command (site-deploy.ts). */
export class SiteDeployStep extends pulumi.ComponentResource {
  /** The digest deployed, known once the install command succeeded. */
  readonly digest: pulumi.Output<string>;

  constructor(name: string, args: SiteDeployStepArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flotilla:mirror:SiteDeploy', name, {}, opts);
    const { plan } = args;
    // a fresh host may take minutes to answer SSH (boot, cloud-init): keep dialling (pulumi-command's default is 10)
    const connection = { host: args.host, user: args.user, privateKey: args.privateKey, dialErrorLimit: 60 };
    const hostId = pulumi.output(args.hostId);
    const copy = new command.remote.CopyToRemote(
      `${name}-copy`,
      { connection, source: new pulumi.asset.FileArchive(plan.source), remotePath: plan.remotePath, triggers: [hostId] },
      { parent: this, dependsOn: args.dependsOn },
    );
    const install = new command.remote.Command(
      `${name}-install`,
      {
        connection,
        create: hostId.apply((id) => deployScript(plan, id)),
        delete: hostId.apply((id) => removeScript(plan, id)),
        triggers: [hostId],
      },
      { parent: this, dependsOn: [copy] },
    );
    this.digest = install.id.apply(() => plan.site.digest);
    this.registerOutputs({ digest: this.digest });
  }
}
