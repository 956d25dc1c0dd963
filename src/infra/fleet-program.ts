import * as pulumi from '@pulumi/pulumi';
import { zonesOf, type FleetSpec } from '../domain/fleet-spec.ts';
import { desiredRecords } from '../planner/desired-records.ts';
import { AwsMirror } from './aws-mirror.ts';
import { publishZones, type MirrorAddresses } from './dns-zones.ts';
import { readFleetState, type FleetState } from './fleet-state.ts';
import { HcloudMirror } from './hcloud-mirror.ts';
import { pulumiLog, type ProgramLog } from './program-log.ts';
import { combinedNameservers, setupRegistrars } from './registrar.ts';
import { secretSource, type SecretSource } from './secrets.ts';
import { readSiteFiles } from './site-files.ts';
import { SshMirror } from './ssh-mirror.ts';
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

/**
 * THE Pulumi program: hosts for every mirror, zones and records at every Pulumi-managed DNS provider, registrar
 * delegations. The records come from desiredRecords with the controller's health and overrides, so `pulumi up`
 * after a failover never re-adds a mirror that is down. Returns the stack outputs (no secrets in them).
 */
export async function fleetProgram(spec: FleetSpec, opts: ProgramOptions = {}) {
  const log = opts.log ?? pulumiLog;
  const secrets = opts.secrets ?? secretSource();
  const state = opts.state ?? (await readFleetState(spec));
  if (!opts.state && spec.state.kind === 'etcd') log.warn('state.kind is etcd: the program does not read etcd yet, so it assumes every mirror is serving');

  const files = await readSiteFiles(spec.site.contentDir);
  const site: WebServerSetup = { siteName: spec.site.name, digest: spec.site.digest, serverNames: [spec.domain, ...spec.alternateDomains], files };

  const addresses: MirrorAddresses = {};
  const mirrors: Record<string, { provider: string; ipv4: pulumi.Input<string | undefined>; ipv6: pulumi.Input<string | undefined> }> = {};
  for (const m of spec.mirrors) {
    const common = { mirror: m, stack: spec.stack };
    let a: { ipv4: pulumi.Input<string | undefined>; ipv6: pulumi.Input<string | undefined> };
    switch (m.provider) {
      case 'aws':
        a = new AwsMirror(m.name, { ...common, site });
        break;
      case 'hcloud':
        a = new HcloudMirror(m.name, { ...common, site });
        break;
      case 'ssh':
        a = new SshMirror(m.name, { ...common, contentDir: spec.site.contentDir, site: { siteName: site.siteName, digest: site.digest, serverNames: site.serverNames }, secrets });
        break;
      case 'local':
        log.info(`mirror ${m.name} is local: served on this machine, nothing to deploy`);
        a = { ipv4: m.ipv4, ipv6: m.ipv6 };
        break;
    }
    addresses[m.name] = a;
    mirrors[m.name] = { provider: m.provider, ipv4: a.ipv4, ipv6: a.ipv6 };
  }

  const desired = desiredRecords(spec, state.health, state.overrides, { now: opts.now ?? Date.now(), lastGood: state.lastGood, placeholders: true });
  for (const n of desired.notes) {
    if (desired.failOpen || desired.degraded) log.warn(n);
    else log.info(n);
  }

  const zones = zonesOf(spec);
  const nameservers = publishZones({ providers: spec.dnsProviders, zones: desired.zones, policyTtl: spec.policy.ttl, addresses, secrets, log });
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
    siteDigest: spec.site.digest,
    mirrors,
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
