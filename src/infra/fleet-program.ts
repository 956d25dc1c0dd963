import * as pulumi from '@pulumi/pulumi';
import { zonesOf, type FleetSpec } from '../domain/fleet-spec.ts';
import { MIRRORS_OUTPUT, SITE_DIGEST_OUTPUT, type MirrorStackOutput } from '../domain/inventory.ts';
import { desiredRecords } from '../planner/desired-records.ts';
import { AwsMirror, awsInstancePlan } from './aws-mirror.ts';
import { planZones, publishZones, type MirrorAddresses } from './dns-zones.ts';
import { readFleetState, stateSourceNote, type FleetState } from './fleet-state.ts';
import { HcloudMirror, hcloudServerPlan } from './hcloud-mirror.ts';
import { pulumiLog, type ProgramLog } from './program-log.ts';
import { checkRegistrars, combinedNameservers, setupRegistrars } from './registrar.ts';
import { secretSource, type SecretSource } from './secrets.ts';
import { readSiteFiles } from './site-files.ts';
import { SshMirror, sshMirrorPlan, sshPrivateKey } from './ssh-mirror.ts';
import type { WebServerSetup } from './web-server-setup.ts';

export interface ProgramOptions {
  /** Clock for override expiry; default Date.now(). */
  now?: number;
  /** Controller state to honour; default: read from the state store (readFleetState). */
  state?: FleetState;
  log?: ProgramLog;
  /** Where secrets come from and how a missing one is treated; default process.env, missing = error. */
  secrets?: SecretSource;
}

type Address = pulumi.Input<string | undefined>;

/**
 * THE Pulumi program: hosts for every mirror, zones and records at every Pulumi-managed DNS provider, registrar
 * delegations. The records come from desiredRecords with the controller's health and overrides, so `pulumi up`
 * after a failover never re-adds a mirror that is down. Returns the stack outputs (no secrets in them).
 *
 * Everything that can be wrong with the spec or the environment is checked first; only then are resources
 * registered, so a bad stack fails with one clear error and registers nothing.
 */
export async function fleetProgram(spec: FleetSpec, opts: ProgramOptions = {}) {
  const log = opts.log ?? pulumiLog;
  const secrets = opts.secrets ?? secretSource();

  // 1. decide (data only; throws ConfigError before any resource exists)
  const state = opts.state ?? (await readFleetState(spec));
  if (!opts.state) log.info(stateSourceNote(spec));
  const files = await readSiteFiles(spec.site.contentDir);
  const site: WebServerSetup = { siteName: spec.site.name, digest: spec.site.digest, serverNames: [spec.domain, ...spec.alternateDomains], files };
  const hosts = spec.mirrors.map((m) => {
    const common = { mirror: m, stack: spec.stack };
    switch (m.provider) {
      case 'aws':
        return { m, kind: 'aws' as const, plan: awsInstancePlan({ ...common, site }) };
      case 'hcloud':
        return { m, kind: 'hcloud' as const, plan: hcloudServerPlan({ ...common, site }) };
      case 'ssh': {
        const plan = sshMirrorPlan({ ...common, contentDir: spec.site.contentDir, site: { siteName: site.siteName, digest: site.digest, serverNames: site.serverNames } });
        return { m, kind: 'ssh' as const, plan, privateKey: sshPrivateKey(plan, secrets) };
      }
      case 'local':
        return { m, kind: 'local' as const };
    }
  });
  const zones = zonesOf(spec);
  const desired = desiredRecords(spec, state.health, state.overrides, { now: opts.now ?? Date.now(), lastGood: state.lastGood, placeholders: true });
  const dns = planZones(spec.dnsProviders, desired.zones, spec.policy.ttl);
  checkRegistrars(spec, zones);

  for (const h of hosts) if (h.kind === 'local') log.info(`mirror ${h.m.name} is local: served on this machine, nothing to deploy`);
  for (const n of desired.notes) {
    if (desired.failOpen || desired.degraded) log.warn(n);
    else log.info(n);
  }
  for (const n of dns.notes) log[n.level](n.message);

  // 2. act: register the resources
  const addresses: MirrorAddresses = {};
  // the stack output `mirrors` is the inventory contract (src/domain/inventory.ts): `flotilla up` reads it back
  const mirrors: Record<string, { [K in keyof MirrorStackOutput]: pulumi.Input<MirrorStackOutput[K]> }> = {};
  for (const h of hosts) {
    const a: { ipv4: Address; ipv6: Address; instanceId?: pulumi.Input<string>; serverId?: pulumi.Input<string> } =
      h.kind === 'aws'
        ? new AwsMirror(h.m.name, h.plan)
        : h.kind === 'hcloud'
          ? new HcloudMirror(h.m.name, h.plan)
          : h.kind === 'ssh'
            ? new SshMirror(h.m.name, { plan: h.plan, privateKey: h.privateKey })
            : { ipv4: h.m.ipv4, ipv6: h.m.ipv6 };
    addresses[h.m.name] = a;
    mirrors[h.m.name] = { provider: h.m.provider, ipv4: a.ipv4, ipv6: a.ipv6, resourceId: a.instanceId ?? a.serverId ?? null, digest: spec.site.digest };
  }
  const nameservers = publishZones({ plans: dns.managed, addresses, secrets });
  const registrars = setupRegistrars(spec, nameservers, zones, log);

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
    [MIRRORS_OUTPUT]: mirrors,
    serving: desired.serving,
    failOpen: desired.failOpen,
    /** Nameservers of each provider for the main domain's zone. */
    nameservers: byZone[zones[0]].providers,
    /** Every provider's nameservers for the main domain, merged: what each registrar lists. */
    allNameservers: byZone[zones[0]].all,
    zones: byZone,
    registrars,
  };
}

export type FleetOutputs = Awaited<ReturnType<typeof fleetProgram>>;
