import { zonesOf, type FleetSpec } from '../domain/fleet-spec.ts';
import { localSettings } from '../domain/provider-settings.ts';
import { Controller, type ControllerOptions } from '../controller/controller.ts';
import { directQuery } from '../controller/dns-query.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../drivers/local/zone-store.ts';
import { createDrivers, localZoneDir } from '../drivers/registry.ts';
import { openStateStore } from './common.ts';

/** A controller wired to the stack's real drivers, state store and DNS verification. */
export async function buildController(spec: FleetSpec, opts: Partial<ControllerOptions> = {}): Promise<Controller> {
  const drivers = await createDrivers(spec.dnsProviders, { env: process.env, stateDir: spec.state.path });
  return new Controller({ spec, store: openStateStore(spec), drivers, query: directQuery, ...opts });
}

/**
 * Starts the embedded DNS server of every `local` provider (the daemon and the demo host it) and creates the
 * fleet's zones in it when missing.
 */
export async function startEmbeddedServers(spec: FleetSpec): Promise<EmbeddedDnsServer[]> {
  const servers: EmbeddedDnsServer[] = [];
  for (const p of spec.dnsProviders.filter((x) => x.kind === 'local')) {
    const s = localSettings.parse(p.settings);
    const store = openZoneStore(localZoneDir(s.zoneDir, spec.state.path));
    for (const zone of zonesOf(spec)) await store.ensureZone(zone);
    servers.push(await startEmbeddedDnsServer({ listen: s.listen, port: s.port, store }));
  }
  return servers;
}
