/**
 * Child-process entry for bench/cluster.ts: ONE controller, as one `flotilla daemon` runs it on its own machine —
 * either alone on the file store, or one vantage of three on etcd. It writes the zone directory the parent's embedded
 * DNS server serves, and reports, as events with absolute times, each stage of a failover it takes part in
 * (StageEvent): the parent puts them on its StageClock.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Controller } from '../../src/controller/controller.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import type { DnsProviderSpec, FleetSpec } from '../../src/domain/fleet-spec.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import type { ProbeResult } from '../../src/probes/probe-result.ts';
import { EtcdCluster } from '../../src/state/etcd-cluster.ts';
import { EtcdStateStore } from '../../src/state/etcd-state-store.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { childMain } from './procs.ts';

export interface ClusterNodeConfig {
  vantage: string;
  zone: string;
  zoneDir: string;
  stateDir: string;
  dnsPort: number;
  mirrors: { name: string; ip: string; port: number }[];
  health: { intervalMs: number; timeoutMs: number; rise: number; fall: number; jitter: number };
  /** Present: one vantage of several on this etcd; absent: alone on the file store. */
  etcd?: { endpoints: string[]; prefix: string; leaseS: number; minVantages: number };
}

/**
 * One stage reached (ms since the epoch, high resolution). `mirror` says which mirror it concerns when it concerns
 * one; `actor` is the vantage whose stage it is (`leader heard`: the vantage heard of).
 */
export interface StageEvent {
  stage: 'failed probe' | 'down' | 'verdict in etcd' | 'leader heard' | 'leader decided' | 'provider listed' | 'fence asked' | 'fence answered' | 'write sent' | 'write done';
  mirror?: string;
  actor: string;
  at: number;
}

const now = () => performance.timeOrigin + performance.now();

await childMain<ClusterNodeConfig>(async (cfg, emit) => {
  const v = cfg.vantage;
  const send = (stage: StageEvent['stage'], mirror?: string, actor = v) => emit({ stage, mirror, actor, at: now() } satisfies StageEvent);
  const providers: DnsProviderSpec[] = [{ name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: cfg.dnsPort, zoneDir: cfg.zoneDir } }];
  const spec: FleetSpec = {
    stack: cfg.zone.split('.')[0],
    site: { name: 'bench', contentDir: cfg.stateDir, digest: 'x', files: {} },
    domain: cfg.zone,
    alternateDomains: [],
    mirrors: cfg.mirrors.map((m) => ({ name: m.name, provider: 'local', ipv4: m.ip, settings: {}, health: { port: m.port } })),
    dnsProviders: providers,
    registrars: [],
    health: { ...cfg.health, path: '/', scheme: 'http', expectStatus: [200], checkDigest: false, tlsMinDays: 7, ...(cfg.etcd ? { minVantages: cfg.etcd.minVantages } : {}) },
    canaries: [],
    policy: { ttl: 5, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'bench' },
    state: cfg.etcd ? { kind: 'etcd', path: cfg.stateDir, endpoints: cfg.etcd.endpoints, leaseMs: cfg.etcd.leaseS * 1000 } : { kind: 'file', path: cfg.stateDir, endpoints: [] },
    server: { listen: '127.0.0.1', port: 0, tokenEnv: 'UNUSED' },
  };
  mkdirSync(cfg.stateDir, { recursive: true });
  const drivers = await createDrivers(providers, { env: {}, stateDir: cfg.stateDir });
  for (const d of drivers) {
    const list = d.listRecords.bind(d);
    d.listRecords = (zone, signal) => { send('provider listed'); return list(zone, signal); };
    const apply = d.applyChanges.bind(d);
    d.applyChanges = async (zone, changes, signal) => {
      send('write sent');
      const r = await apply(zone, changes, signal);
      send('write done');
      return r;
    };
  }
  const cluster = cfg.etcd ? new EtcdCluster({ endpoints: cfg.etcd.endpoints, prefix: cfg.etcd.prefix, vantage: v, leaseTtlS: cfg.etcd.leaseS }) : undefined;
  const store = cfg.etcd ? new EtcdStateStore({ endpoints: cfg.etcd.endpoints, prefix: cfg.etcd.prefix }) : new FileStateStore(join(cfg.stateDir));
  const c = new Controller({ spec, store, drivers, query: directQuery, vantage: v, cluster });
  c.on('probe', (r: ProbeResult) => { if (!r.ok) send('failed probe', r.mirror); });
  c.on('flip', (f: { mirror: string; state: string }) => { if (f.state === 'down') send('down', f.mirror); });
  const request = c.requestReconcile.bind(c);
  c.requestReconcile = (reason) => {
    if (c.cluster.isLeader()) for (const m of cfg.mirrors) if (!c.desired().serving.includes(m.name)) send('leader decided', m.name);
    return request(reason);
  };
  if (cluster) {
    const publish = cluster.publish.bind(cluster);
    cluster.publish = async (health) => {
      const down = cfg.mirrors.filter((m) => health[m.name]?.state === 'down').map((m) => m.name);
      await publish(health);
      for (const m of down) send('verdict in etcd', m);
    };
    // what the leader hears of the other vantages (the watch, or a poll)
    cluster.on('change', () => {
      if (!cluster.isLeader()) return;
      for (const o of cluster.vantages()) for (const m of cfg.mirrors) if (o.name !== v && o.live && o.health[m.name]?.state === 'down') send('leader heard', m.name, o.name);
    });
    const fence = cluster.fence.bind(cluster);
    cluster.fence = async () => {
      send('fence asked');
      await fence();
      send('fence answered');
    };
  }
  await c.start();
  return {
    ready: {},
    handlers: {
      leader: async () => c.cluster.isLeader(),
    },
    shutdown: () => c.stop(),
  };
});
