/**
 * `node --import tsx bench/cluster.ts [--trials N]`: failover time with three controllers on a 3-member etcd
 * (three vantages, quorum: a majority = 2) against one controller on the file store, at the same settings
 * (interval 250 ms, timeout 200 ms, rise 2, fall 3, fast re-probe on), in one run, trials interleaved.
 * Failover time: a mirror's HTTP server closed (connections refused, like a killed process) → the embedded DNS
 * server no longer answers its address (sampled every 10 ms). Loopback only; etcd runs in the foreground and is
 * killed by pid at the end (bench/lib/procs.ts), also on Ctrl-C or an exception.
 * Prints a table and the ratio, and writes bench/results/cluster.json.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../src/controller/controller.ts';
import { directQuery } from '../src/controller/dns-query.ts';
import type { DnsProviderSpec, FleetSpec } from '../src/domain/fleet-spec.ts';
import { startEmbeddedDnsServer } from '../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../src/drivers/local/zone-store.ts';
import { createDrivers } from '../src/drivers/registry.ts';
import { queryDns } from '../src/dns/dns-client.ts';
import { EtcdCluster } from '../src/state/etcd-cluster.ts';
import { EtcdStateStore } from '../src/state/etcd-state-store.ts';
import { FileStateStore } from '../src/state/file-state-store.ts';
import { commonFreePort } from './lib/ports.ts';
import { BENCH_DIR, installCleanup, startDaemon, trackTempDir, type Daemon } from './lib/procs.ts';
import { mdTable, num, summarize } from './lib/stats.ts';

const trials = Number(process.argv[process.argv.indexOf('--trials') + 1]) || 10;
const t0 = performance.now();
const log = (s: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}\n`);

/** A mirror: an HTTP server answering 200; kill() closes it and its connections (refused from then on). */
class Mirror {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(readonly ip: string, readonly port: number) {}
  async start(): Promise<void> {
    const s = createServer((_req, res) => res.end('ok'));
    s.on('connection', (c) => { this.sockets.add(c); c.on('close', () => this.sockets.delete(c)); });
    await new Promise<void>((r) => s.listen(this.port, this.ip, r));
    this.server = s;
  }
  async kill(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const c of this.sockets) c.destroy();
    await new Promise((r) => s?.close(r));
  }
}

async function startEtcd3(dir: string): Promise<{ endpoints: string[]; members: Daemon[] }> {
  const ports = await Promise.all(Array.from({ length: 6 }, () => commonFreePort(['127.0.0.1'])));
  if (new Set(ports).size !== 6) throw new Error('port collision; run again');
  const names = ['e0', 'e1', 'e2'];
  const client = (i: number) => `http://127.0.0.1:${ports[2 * i]}`;
  const peer = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const cluster = names.map((n, i) => `${n}=${peer(i)}`).join(',');
  const members = names.map((n, i) => startDaemon('etcd', ['--name', n, '--data-dir', join(dir, n), '--listen-client-urls', client(i), '--advertise-client-urls', client(i), '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i), '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `bench-${process.pid}`, '--log-level', 'error'], { label: `etcd ${n}` }));
  for (const [i] of names.entries()) {
    for (const deadline = Date.now() + 30_000; ; ) {
      const ok = await fetch(`${client(i)}/health`, { signal: AbortSignal.timeout(500) }).then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true').catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`etcd ${names[i]} not healthy:\n${members[i].log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { endpoints: names.map((_, i) => client(i)), members };
}

async function main(): Promise<void> {
  installCleanup();
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'flotilla-bench-cluster-')));
  log(`cluster bench: ${trials} trials per setup`);
  const etcd = await startEtcd3(dir);
  const zoneDir = join(dir, 'zones');
  const zones = openZoneStore(zoneDir);
  const setups = [
    { label: '1 vantage (file store)', zone: 'solo.bench', ips: ['127.0.0.91', '127.0.0.92', '127.0.0.93'] },
    { label: '3 vantages on etcd (quorum 2)', zone: 'trio.bench', ips: ['127.0.0.94', '127.0.0.95', '127.0.0.96'] },
  ];
  for (const s of setups) await zones.ensureZone(s.zone);
  const embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zones });
  const providers: DnsProviderSpec[] = [{ name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: embedded.port, zoneDir } }];
  const controllers: Controller[] = [];
  const clusters: EtcdCluster[] = [];
  const mirrorsOf = new Map<string, Mirror[]>();
  for (const s of setups) {
    const mirrors: Mirror[] = [];
    for (const ip of s.ips) {
      const m = new Mirror(ip, await commonFreePort([ip]));
      await m.start();
      mirrors.push(m);
    }
    mirrorsOf.set(s.zone, mirrors);
    const trio = s.zone === 'trio.bench';
    const spec: FleetSpec = {
      stack: s.zone.split('.')[0],
      site: { name: 'bench', contentDir: dir, digest: 'x', files: {} },
      domain: s.zone,
      alternateDomains: [],
      mirrors: mirrors.map((m, i) => ({ name: `m${i + 1}`, provider: 'local', ipv4: m.ip, settings: {}, health: { port: m.port } })),
      dnsProviders: providers,
      registrars: [],
      health: { intervalMs: 250, timeoutMs: 200, rise: 2, fall: 3, path: '/', scheme: 'http', expectStatus: [200], checkDigest: false, tlsMinDays: 7, jitter: 0.1, ...(trio ? { minVantages: 2 } : {}) },
      canaries: [],
      policy: { ttl: 5, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'bench' },
      state: trio ? { kind: 'etcd', path: dir, endpoints: etcd.endpoints, leaseMs: 2000 } : { kind: 'file', path: join(dir, 'solo-state'), endpoints: [] },
      server: { listen: '127.0.0.1', port: 0, tokenEnv: 'UNUSED' },
    };
    for (let v = 0; v < (trio ? 3 : 1); v++) {
      const drivers = await createDrivers(providers, { env: {}, stateDir: dir });
      let c: Controller;
      if (trio) {
        const cluster = new EtcdCluster({ endpoints: etcd.endpoints, prefix: '/flotilla/trio/', vantage: `v${v + 1}`, leaseTtlS: 2 });
        clusters.push(cluster);
        c = new Controller({ spec, store: new EtcdStateStore({ endpoints: etcd.endpoints, prefix: '/flotilla/trio/' }), drivers, query: directQuery, vantage: `v${v + 1}`, cluster });
      } else {
        mkdirSync(spec.state.path, { recursive: true });
        c = new Controller({ spec, store: new FileStateStore(spec.state.path), drivers, query: directQuery, vantage: 'solo' });
      }
      await c.start();
      controllers.push(c);
    }
  }
  const answer = async (zone: string) => {
    const r = await queryDns({ server: embedded.address, name: zone, type: 'A', timeoutMs: 300 });
    return r.ok ? r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort() : [];
  };
  const until = async (zone: string, pred: (v: string[]) => boolean, ms: number): Promise<number> => {
    const start = performance.now();
    for (;;) {
      if (pred(await answer(zone))) return performance.now() - start;
      if (performance.now() - start > ms) throw new Error(`${zone}: no change within ${ms} ms (answers ${(await answer(zone)).join(',')})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  for (const s of setups) await until(s.zone, (v) => v.length === 3, 30_000);
  log('both setups serve all three mirrors');
  const times = new Map<string, number[]>(setups.map((s) => [s.label, []]));
  for (let t = 0; t < trials; t++) {
    for (const s of t % 2 === 0 ? setups : [...setups].reverse()) {
      const mirrors = mirrorsOf.get(s.zone)!;
      const victim = mirrors[t % 3];
      await victim.kill();
      const ms = await until(s.zone, (v) => v.length > 0 && !v.includes(victim.ip), 15_000);
      times.get(s.label)!.push(ms);
      log(`trial ${t + 1}: ${s.label}: ${victim.ip} gone in ${Math.round(ms)} ms`);
      await victim.start();
      await until(s.zone, (v) => v.length === 3, 15_000);
      await new Promise((r) => setTimeout(r, 1500)); // past the flap window's weight of one flip
    }
  }
  const [solo, trio] = setups.map((s) => summarize(times.get(s.label)!));
  const ratio = trio.median / solo.median;
  const table = mdTable(['setup', 'trials', 'median ms', 'p95 ms', 'min', 'max'], setups.map((s, i) => {
    const x = [solo, trio][i];
    return [s.label, x.n, num(x.median), num(x.p95), num(x.min), num(x.max)];
  }));
  console.log(`${table}\n\nkill → gone at the DNS server, 3 vantages / 1 vantage, median: ${ratio.toFixed(2)}× (goal ≤ 1.3×)`);
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  writeFileSync(join(BENCH_DIR, 'results', 'cluster.json'), JSON.stringify({ command: `node --import tsx bench/cluster.ts --trials ${trials}`, date: new Date().toISOString(), settings: { intervalMs: 250, timeoutMs: 200, rise: 2, fall: 3, leaseS: 2, quorum: 'majority' }, solo, trio, ratio, raw: Object.fromEntries(times) }, null, 2) + '\n');
  for (const c of controllers) await c.stop();
  await embedded.close();
  await Promise.all(etcd.members.map((m) => m.stop()));
  process.exit(0);
}

await main();
