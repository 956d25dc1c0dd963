/**
 * A lab delegation on loopback: a BIND parent zone `test` delegating `drill.test` (with glue) to a BIND child on
 * 127.0.0.1 and PowerDNS on 127.0.3.2, both on one port of their own (a lab's stand-in for port 53). The child zone
 * holds the address records of its in-bailiwick nameserver names, as it must in the world.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { nsupdate, startBind, type DnsServerHandle } from './bind-server.ts';
import { startPdnsServer, type PdnsServer } from './pdns-server.ts';
import { freePort } from './ports.ts';

export const LAB_ZONE = 'drill.test';
export const LAB_NAMESERVERS = { bind: ['ns1.bind.drill.test'], pdns: ['ns1.pdns.drill.test'] };

/** The NS set the parent at `parent` (host:port) delegates `zone` with, sorted; throws when the parent does not answer. */
export async function parentNameservers(parent: string, zone: string): Promise<string[]> {
  const r = await queryDns({ server: parent, name: zone, type: 'NS', timeoutMs: 1000 });
  if (!r.ok) throw new Error(`the parent ${parent} did not answer for ${zone} NS: ${r.error}`);
  return r.authority.filter((a) => a.type === 'NS' && a.name === zone).map((a) => a.value).sort();
}

export interface DelegationLab {
  parent: DnsServerHandle;
  child: DnsServerHandle;
  pdns: PdnsServer;
  /** The port both child servers answer on. */
  port: number;
  /** Deletes the zone at PowerDNS (the provider "loses" it). */
  deletePdnsZone(): Promise<void>;
  createPdnsZone(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDelegationLab(): Promise<DelegationLab> {
  const port = await freePort('127.0.0.1');
  const started = await Promise.allSettled([
    startBind({ zones: ['test'], extraRecords: { test: ['drill NS ns1.bind.drill.test.', 'drill NS ns1.pdns.drill.test.', 'ns1.bind.drill A 127.0.0.1', 'ns1.pdns.drill A 127.0.3.2'] } }),
    startBind({ zones: [LAB_ZONE], port, extraRecords: { [LAB_ZONE]: ['ns1.bind A 127.0.0.1', 'ns1.pdns A 127.0.3.2'] } }),
    startPdnsServer({ zones: [LAB_ZONE], dnsAddress: '127.0.3.2', dnsPort: port }),
  ]);
  const ok = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  const stop = async () => {
    await Promise.all(ok.map((s) => s?.stop()));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const [parent, child, pdns] = ok as [DnsServerHandle, DnsServerHandle, PdnsServer];
  const api = `${pdns.apiUrl}/api/v1/servers/${pdns.serverId}/zones`;
  return {
    parent,
    child,
    pdns,
    port,
    async deletePdnsZone() {
      const res = await fetch(`${api}/${LAB_ZONE}.`, { method: 'DELETE', headers: { 'X-API-Key': pdns.apiKey } });
      if (res.status !== 204) throw new Error(`deleting ${LAB_ZONE} at PowerDNS: HTTP ${res.status}`);
    },
    async createPdnsZone() {
      const res = await fetch(api, { method: 'POST', headers: { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ name: `${LAB_ZONE}.`, kind: 'Native', nameservers: ['ns1.pdns.drill.test.'] }) });
      if (res.status !== 201) throw new Error(`creating ${LAB_ZONE} at PowerDNS: HTTP ${res.status}`);
    },
    stop,
  };
}

// ---- the deplatforming drill's lab: three providers on port 53, a site zone and an alternate ----

export const DRILL_ZONE = 'drill.test';
export const DRILL_ALT = 'drill-alt.test';
/** Providers' nameserver names live in the parent zone (as a provider's own domain would), so losing the site's domain leaves them. */
export const DRILL_NAMESERVERS = { bind: ['ns1.bind-dns.test'], pdns: ['ns1.pdns-dns.test'], embedded: ['ns1.embedded-dns.test'] };
/** The site's mirrors (the A records every provider serves). */
export const DRILL_MIRRORS = ['127.0.0.21', '127.0.0.22'];
/** A third zone, delegated the same way but holding no site records: the controller's own (the fleet case writes it). */
export const DRILL_FLEET = 'fleet.test';

export interface DrillLab {
  parent: DnsServerHandle;
  child: DnsServerHandle;
  pdns: PdnsServer;
  embedded: { address: string; close(): Promise<void> };
  /** The embedded server's zone directory (a `local` provider's `zoneDir`). */
  zoneDir: string;
  deletePdnsZone(zone: string): Promise<void>;
  createPdnsZone(zone: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A BIND parent `test` (on a port of its own) delegating drill.test, drill-alt.test and fleet.test (no site records: the controller writes it), without glue inside them, to
 * a BIND child on 127.0.0.1:53, PowerDNS on 127.0.4.2:53 and the embedded server on 127.0.4.3:53 — port 53, because a
 * real recursive resolver (unbound) follows the delegation and asks nameservers on port 53 only.
 */
export async function startDrillLab(): Promise<DrillLab> {
  const siteZones = [DRILL_ZONE, DRILL_ALT];
  const zones = [...siteZones, DRILL_FLEET];
  const nsNames = Object.values(DRILL_NAMESERVERS).flat();
  const apexNs = nsNames.map((n) => `@ 60 NS ${n}.`);
  const apex = (z: string) => (siteZones.includes(z) ? [...apexNs, ...DRILL_MIRRORS.map((a) => `@ 60 A ${a}`)] : apexNs);
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const parent = await startBind({
      zones: ['test'],
      extraRecords: { test: [...zones.flatMap((z) => nsNames.map((n) => `${z.split('.')[0]} 60 NS ${n}.`)), 'ns1.bind-dns 60 A 127.0.0.1', 'ns1.pdns-dns 60 A 127.0.4.2', 'ns1.embedded-dns 60 A 127.0.4.3'] },
    });
    cleanups.push(parent.stop);
    const child = await startBind({ zones, port: 53, extraRecords: Object.fromEntries(zones.map((z) => [z, apex(z)])) });
    cleanups.push(child.stop);
    // the zone file helper names `localhost.` as apex NS: the child must list the providers' names, as the parent does
    for (const z of zones) await nsupdate(child, z, [`update delete ${z}. NS localhost.`]);
    const pdns = await startPdnsServer({ zones: [], dnsAddress: '127.0.4.2', dnsPort: 53 });
    cleanups.push(pdns.stop);
    const api = `${pdns.apiUrl}/api/v1/servers/${pdns.serverId}/zones`;
    const createPdnsZone = async (zone: string) => {
      const body = { name: `${zone}.`, kind: 'Native', nameservers: nsNames.map((n) => `${n}.`), rrsets: !siteZones.includes(zone) ? [] : [{ name: `${zone}.`, type: 'A', ttl: 60, changetype: 'REPLACE', records: DRILL_MIRRORS.map((content) => ({ content, disabled: false })) }] };
      const res = await fetch(api, { method: 'POST', headers: { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`creating ${zone} at PowerDNS: HTTP ${res.status} ${await res.text()}`);
    };
    for (const z of zones) await createPdnsZone(z);
    const zoneDir = await mkdtemp(join(tmpdir(), 'flotilla-drill-zones-'));
    cleanups.push(() => rm(zoneDir, { recursive: true, force: true }));
    const store = openZoneStore(zoneDir);
    for (const z of zones) {
      await store.ensureZone(z, { nsNames, ttl: 60 });
      if (siteZones.includes(z)) await store.apply(z, [{ action: 'create', after: { name: z, type: 'A', ttl: 60, values: DRILL_MIRRORS } }]);
    }
    const embedded = await startEmbeddedDnsServer({ listen: '127.0.4.3', port: 53, store, rateLimit: false });
    cleanups.push(() => embedded.close());
    return {
      parent,
      child,
      pdns,
      embedded,
      zoneDir,
      createPdnsZone,
      async deletePdnsZone(zone) {
        const res = await fetch(`${api}/${zone}.`, { method: 'DELETE', headers: { 'X-API-Key': pdns.apiKey } });
        if (res.status !== 204) throw new Error(`deleting ${zone} at PowerDNS: HTTP ${res.status}`);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
