/**
 * A lab delegation on loopback: a BIND parent zone `test` delegating `drill.test` (with glue) to a BIND child on
 * 127.0.0.1 and PowerDNS on 127.0.3.2, both on one port of their own (a lab's stand-in for port 53). The child zone
 * holds the address records of its in-bailiwick nameserver names, as it must in the world.
 */
import { startBind, type DnsServerHandle } from './bind-server.ts';
import { startPdnsServer, type PdnsServer } from './pdns-server.ts';
import { freePort } from './ports.ts';

export const LAB_ZONE = 'drill.test';
export const LAB_NAMESERVERS = { bind: ['ns1.bind.drill.test'], pdns: ['ns1.pdns.drill.test'] };

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
