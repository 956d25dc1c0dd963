import { hostname } from 'node:os';
import { zonesOf, type FleetSpec } from '../domain/fleet-spec.ts';
import { openCluster } from '../state/open-store.ts';
import { Controller, type ControllerOptions } from '../controller/controller.ts';
import { directQuery } from '../controller/dns-query.ts';
import { parseDuration } from '../domain/duration.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer, type EmbeddedDnsServerOptions } from '../drivers/local/embedded-dns-server.ts';
import { localSettings, type LocalSettings } from '../drivers/local/local-settings.ts';
import { axfrKey } from '../drivers/local/axfr-key.ts';
import { NAMESPACE } from '../config/load-stack.ts';
import { ConfigError } from '../domain/errors.ts';
import { openZoneStore } from '../drivers/local/zone-store.ts';
import { createDrivers, localZoneDir } from '../drivers/registry.ts';
import { openStateStore } from './common.ts';
import { listenFailure } from './listen-failure.ts';

/** A controller wired to the stack's real drivers, state store and DNS verification. */
export async function buildController(spec: FleetSpec, opts: Partial<ControllerOptions> = {}): Promise<Controller> {
  const drivers = await createDrivers(spec.dnsProviders, { env: process.env, stateDir: spec.state.path });
  const vantage = opts.vantage ?? hostname();
  const cluster = opts.cluster ?? (await openCluster(spec, vantage, opts.log));
  return new Controller({ spec, store: openStateStore(spec), drivers, query: directQuery, ...opts, vantage, cluster });
}

/**
 * Starts the embedded DNS server of every `local` provider (the daemon and the demo host it) and creates the
 * fleet's zones in it when missing. An address that cannot be bound is a ConfigError naming the provider's setting
 * in `file`; the servers already started are closed first.
 */
export async function startEmbeddedServers(spec: FleetSpec, file: string): Promise<EmbeddedDnsServer[]> {
  const servers: EmbeddedDnsServer[] = [];
  for (const { settings, store, index } of await ensureLocalZones(spec)) {
    const tsig = axfrKey(settings.axfrTsig, process.env);
    if (tsig.problem) {
      await Promise.all(servers.map((s) => s.close()));
      throw new ConfigError(file, [{ path: `${NAMESPACE}:fleet.dnsProviders[${index}].settings.axfrTsig.secretEnv`, message: tsig.problem }]);
    }
    try {
      servers.push(await startEmbeddedDnsServer({ listen: settings.listen, port: settings.port, store, axfrAllow: settings.axfrAllow, axfrTsig: tsig.key, ...embeddedLimits(settings) }));
    } catch (e) {
      await Promise.all(servers.map((s) => s.close()));
      throw listenFailure(e, { file, setting: `dnsProviders[${index}].settings`, what: 'the embedded DNS server', listen: settings.listen, port: settings.port }) ?? e;
    }
  }
  return servers;
}

/** The `tcp` and `rrl` settings of a local provider as the embedded server's options. */
export function embeddedLimits(s: LocalSettings): Pick<EmbeddedDnsServerOptions, 'tcp' | 'rateLimit'> {
  return {
    tcp: { maxConnections: s.tcp.connections, maxPerClient: s.tcp.perClient, idleTimeoutMs: parseDuration(s.tcp.idleTimeout)! },
    rateLimit: s.rrl === false ? false : { responsesPerSecond: s.rrl.responsesPerSecond, slip: s.rrl.slip, ...(s.rrl.exempt ? { exempt: s.rrl.exempt } : {}) },
  };
}

/** Creates the fleet's zones in every `local` provider's zone store when missing (the embedded server has no API to do it). */
export async function ensureLocalZones(spec: FleetSpec) {
  const out = [];
  for (const [index, p] of spec.dnsProviders.entries()) {
    if (p.kind !== 'local') continue;
    const settings = localSettings.parse(p.settings);
    const store = openZoneStore(localZoneDir(settings.zoneDir, spec.state.path));
    for (const zone of zonesOf(spec)) await store.ensureZone(zone);
    out.push({ settings, store, index });
  }
  return out;
}
