import * as pulumi from '@pulumi/pulumi';
import { zoneOf, zonesOf, type FleetSpec, type RegistrarKind } from '../domain/fleet-spec.ts';
import { MIRRORS_OUTPUT, SITE_DIGEST_OUTPUT } from '../domain/inventory.ts';
import { DEFAULT_DEPLOY_KEY_ENV } from '../domain/mirror-login.ts';
import { manifestDeployFiles } from '../manifest/manifest-files.ts';
import { desiredRecords } from '../planner/desired-records.ts';
import { AwsMirror, awsInstancePlan } from './aws-mirror.ts';
import { deployPublicKey } from './deploy-key.ts';
import { planZones, publishZones } from './dns-zones.ts';
import { readFleetState, stateSourceNote, type FleetState } from './fleet-state.ts';
import { HcloudMirror, hcloudDeployKey, hcloudServerPlan } from './hcloud-mirror.ts';
import { pulumiLog, type ProgramLog } from './program-log.ts';
import { checkRegistrars, combinedNameservers, setupRegistrars } from './registrar.ts';
import { requiredSecret, secretSource, type SecretSource } from './secrets.ts';
import { siteDeployPlan } from './site-deploy.ts';
import { SshMirror, sshMirrorPlan, sshPrivateKey } from './ssh-mirror.ts';

export interface ProgramOptions {
  log?: ProgramLog;
  /** Where secrets come from and how a missing one is treated; default process.env, missing = error. */
  secrets?: SecretSource;
  /** The delegation guard's decisions to honour; default: read from the state store (readFleetState). */
  state?: FleetState;
}

type Address = pulumi.Input<string | undefined>;

/**
 * One mirror in the stack outputs, what the controller's inventory is built from: its addresses, the provider, the
 * id of the resource behind it (instance, server, `ssh:<address>`, `local:<name>`), the content digest deployed.
 */
export interface MirrorOutput {
  provider: string;
  ipv4: Address;
  ipv6: Address;
  resourceId: pulumi.Input<string>;
  digest: pulumi.Input<string>;
}

/**
 * THE Pulumi program: hosts for every mirror with the site deployed over SSH, zones with their apex NS and ownership
 * markers at every Pulumi-managed DNS provider, registrar delegations. It registers no serving A/AAAA record: those
 * are the controller's (one owner per record), so `pulumi up` after a failover changes nothing a client is served,
 * and the program does not read the controller's health. Returns the stack outputs (no secrets in them).
 *
 * Everything that can be wrong with the spec or the environment is checked first; only then are resources
 * registered, so a bad stack fails with one clear error and registers nothing.
 */
export async function fleetProgram(spec: FleetSpec, opts: ProgramOptions = {}) {
  const log = opts.log ?? pulumiLog;
  const secrets = opts.secrets ?? secretSource();
  const state = opts.state ?? (await readFleetState(spec));
  if (!opts.state) log.info(stateSourceNote(spec));

  // 1. decide (data only; throws ConfigError before any resource exists)
  const site = { siteName: spec.site.name, digest: spec.site.digest, serverNames: [spec.domain, ...spec.alternateDomains] };
  const cloud = spec.mirrors.some((m) => m.provider === 'aws' || m.provider === 'hcloud');
  const deployKey = cloud ? cloudDeployKey(spec, secrets) : undefined;
  // the manifest the daemon last published goes to every mirror with the site (served at /.well-known/flotilla.json)
  const files = manifestDeployFiles(state.manifestJson);
  const filesNote = state.manifestJson === undefined ? undefined : `manifest sequence ${state.manifestSequence ?? '?'}`;
  const hosts = spec.mirrors.map((m) => {
    const common = { mirror: m, stack: spec.stack };
    const deploy = siteDeployPlan({ stack: spec.stack, mirror: m.name, contentDir: spec.site.contentDir, site, files, filesNote });
    switch (m.provider) {
      case 'aws':
        return { m, kind: 'aws' as const, plan: awsInstancePlan({ ...common, sshPublicKey: deployKey!.publicKey }), deploy };
      case 'hcloud':
        return { m, kind: 'hcloud' as const, plan: hcloudServerPlan({ ...common, sshPublicKey: deployKey!.publicKey }), deploy };
      case 'ssh': {
        const plan = sshMirrorPlan({ mirror: m });
        return { m, kind: 'ssh' as const, plan, deploy, privateKey: sshPrivateKey(plan, secrets) };
      }
      case 'local':
        return { m, kind: 'local' as const };
    }
  });
  const zones = zonesOf(spec);
  // the markers the controller writes beside its serving sets (same function, so both write the same markers)
  const desired = desiredRecords(spec, {}, [], { now: 0, placeholders: true });
  const dns = planZones(spec.dnsProviders, desired.zones, spec.policy.ttl);
  checkRegistrars(spec, zones);
  const registrarKinds: Record<string, RegistrarKind[]> = {};
  for (const r of spec.registrars) (registrarKinds[zoneOf(spec, r.domain)] ??= []).push(r.kind);

  for (const h of hosts) if (h.kind === 'local') log.info(`mirror ${h.m.name} is local: served on this machine, nothing to deploy`);
  for (const n of dns.notes) log[n.level](n.message);

  // 2. act: register the resources
  const mirrors: Record<string, MirrorOutput> = {};
  const hcloudKey = hosts.some((h) => h.kind === 'hcloud') ? hcloudDeployKey(spec.stack, deployKey!.publicKey) : undefined;
  for (const h of hosts) {
    if (h.kind === 'aws') {
      const a = new AwsMirror(h.m.name, { plan: h.plan, deploy: h.deploy, privateKey: deployKey!.privateKey });
      mirrors[h.m.name] = { provider: 'aws', ipv4: a.ipv4, ipv6: a.ipv6, resourceId: a.instanceId, digest: a.digest };
    } else if (h.kind === 'hcloud') {
      const a = new HcloudMirror(h.m.name, { plan: h.plan, deploy: h.deploy, privateKey: deployKey!.privateKey, sshKey: hcloudKey! });
      mirrors[h.m.name] = { provider: 'hcloud', ipv4: a.ipv4, ipv6: a.ipv6, resourceId: a.serverId, digest: a.digest };
    } else if (h.kind === 'ssh') {
      const a = new SshMirror(h.m.name, { plan: h.plan, deploy: h.deploy, privateKey: h.privateKey });
      mirrors[h.m.name] = { provider: 'ssh', ipv4: a.ipv4, ipv6: a.ipv6, resourceId: h.plan.hostId, digest: a.digest };
    } else {
      mirrors[h.m.name] = { provider: 'local', ipv4: h.m.ipv4, ipv6: h.m.ipv6, resourceId: `local:${h.m.name}`, digest: spec.site.digest };
    }
  }
  const nameservers = publishZones({ plans: dns.managed, secrets, registrars: registrarKinds });
  const registrars = setupRegistrars(spec, nameservers, zones, log, state.pruned);

  const byZone = Object.fromEntries(
    zones.map((z) => [
      z,
      {
        providers: Object.fromEntries(Object.entries(nameservers).filter(([, nz]) => nz[z]).map(([p, nz]) => [p, nz[z]])),
        all: combinedNameservers(nameservers, z),
      },
    ]),
  );
  return {
    [SITE_DIGEST_OUTPUT]: spec.site.digest,
    /** Per mirror: provider, ipv4, ipv6, resourceId, digest (the controller's inventory reads these). */
    [MIRRORS_OUTPUT]: mirrors,
    /** Delegated nameservers of each provider for the main domain's zone (its delegatedNameservers first names). */
    nameservers: byZone[zones[0]].providers,
    /** Every provider's delegated nameservers for the main domain, merged: what each registrar and apex NS set lists. */
    allNameservers: byZone[zones[0]].all,
    zones: byZone,
    registrars,
  };
}

export type FleetOutputs = Awaited<ReturnType<typeof fleetProgram>>;

/** The stack's deploy key (deploy.sshKeyEnv): the private key as a secret, its public half for the user data. */
function cloudDeployKey(spec: FleetSpec, secrets: SecretSource) {
  const env = spec.deploy?.sshKeyEnv ?? DEFAULT_DEPLOY_KEY_ENV;
  const privateKey = requiredSecret(secrets, env, 'the deploy key: cloud hosts get the site over SSH with it');
  const value = secrets.env[env];
  // a mock preview without the key: a placeholder public key, flagged by the preview as an unset variable
  const publicKey = !value && secrets.missing === 'placeholder' ? `ssh-ed25519 (unset ${env})` : deployPublicKey(env, value, `flotilla-${spec.stack}-deploy`);
  return { privateKey, publicKey };
}
