/**
 * What the vantage quorum costs: failover time with three controllers on a 3-member etcd (three vantages, quorum: a
 * majority = 2) against one controller on the file store, at the same settings (interval 250 ms, timeout 200 ms,
 * rise 2, fall 3, fast re-probe on), in one run, both arms in every trial (order alternating, a random phase of the
 * probe cycle first) so load hits both alike. Each controller runs in a process of its own (bench/lib/cluster-node.ts),
 * as on its own machine; they write one zone directory, served by the embedded DNS server in this process.
 * Failover time: a mirror's HTTP server closed (connections refused, like a killed process) → the embedded DNS
 * server no longer answers its address (sampled every 10 ms). Every trial also records when each stage was reached
 * (bench/lib/stage-clock.ts): where the three-vantage path spends its time. Loopback only; etcd and the controllers
 * are stopped by pid at the end (bench/lib/procs.ts), also on Ctrl-C or an exception.
 *
 * `npm run bench -- --only cluster` (30 trials; `--quick` 8), or alone:
 * `node --import tsx bench/cluster.ts [--trials N] [--quick]` — both write bench/results/{full,quick}/cluster.json
 * and refresh the section in bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryDns } from '../src/dns/dns-client.ts';
import { startEmbeddedDnsServer } from '../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../src/drivers/local/zone-store.ts';
import type { ClusterNodeConfig, StageEvent } from './lib/cluster-node.ts';
import { machineInfo, SITE_DIR, type BenchContext, type BenchOutput } from './lib/context.ts';
import { commonFreePort } from './lib/ports.ts';
import { installCleanup, startDaemon, startNodeChild, trackTempDir, type Daemon, type NodeChild } from './lib/procs.ts';
import { updateReadme, writeResult } from './lib/report.ts';
import { StageClock } from './lib/stage-clock.ts';
import { mdTable, num, ratioValue, sleep, summarize, type Summary } from './lib/stats.ts';

const SETTINGS = { intervalMs: 250, timeoutMs: 200, rise: 2, fall: 3, leaseS: 2, quorum: 'majority' } as const;
const GOAL = 1.3;
const SOLO = '1 vantage (file store)';
const TRIO = '3 vantages on etcd (quorum 2)';

/** A mirror: an HTTP server answering 200; kill() closes it and its connections (refused from then on). */
class Mirror {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(readonly name: string, readonly ip: string, readonly port: number) {}
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
      await sleep(100);
    }
  }
  return { endpoints: names.map((_, i) => client(i)), members };
}

/** Puts a controller's stage events (cluster-node.ts) on the clock of its setup, for the mirror the clock is armed for. */
function onStage(clock: StageClock, e: StageEvent): void {
  if (e.mirror !== undefined && e.mirror !== clock.victim) return;
  switch (e.stage) {
    case 'failed probe': return clock.first('1st failed probe', e.at);
    case 'down': case 'verdict in etcd': case 'leader heard':
      return clock.nth(e.stage === 'down' ? 'vantage down' : e.stage, e.actor, e.at);
    case 'leader decided': return clock.first(e.stage, e.at);
    // the leader's pass for this decision (not a resync pass that happened to run before it)
    default: return clock.has('leader decided') ? clock.first(e.stage, e.at) : undefined;
  }
}

export interface ClusterBenchOptions {
  trials?: number;
}

export async function runCluster(ctx: BenchContext, opts: ClusterBenchOptions = {}): Promise<BenchOutput> {
  const trials = opts.trials ?? (ctx.quick ? 8 : 30);
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'flotilla-bench-cluster-')));
  ctx.log(`cluster: ${trials} trials per setup`);
  const etcd = await startEtcd3(dir);
  const zoneDir = join(dir, 'zones');
  const zones = openZoneStore(zoneDir);
  const setups = [
    { label: SOLO, zone: 'solo.bench', ips: ['127.0.0.91', '127.0.0.92', '127.0.0.93'], clock: new StageClock() },
    { label: TRIO, zone: 'trio.bench', ips: ['127.0.0.94', '127.0.0.95', '127.0.0.96'], clock: new StageClock() },
  ];
  for (const s of setups) await zones.ensureZone(s.zone);
  const embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zones });
  const nodes: NodeChild<StageEvent>[] = [];
  const mirrorsOf = new Map<string, Mirror[]>();
  try {
    for (const s of setups) {
      const mirrors: Mirror[] = [];
      for (const [i, ip] of s.ips.entries()) {
        const m = new Mirror(`m${i + 1}`, ip, await commonFreePort([ip]));
        await m.start();
        mirrors.push(m);
      }
      mirrorsOf.set(s.zone, mirrors);
      const trio = s.label === TRIO;
      // one process per controller, as on separate machines; the DNS server and the sampling stay in this one
      for (let v = 0; v < (trio ? 3 : 1); v++) {
        const vantage = trio ? `v${v + 1}` : 'solo';
        const cfg: ClusterNodeConfig = {
          vantage,
          zone: s.zone,
          zoneDir,
          stateDir: join(dir, `state-${vantage}`),
          dnsPort: embedded.port,
          mirrors: mirrors.map((m) => ({ name: m.name, ip: m.ip, port: m.port })),
          health: { intervalMs: SETTINGS.intervalMs, timeoutMs: SETTINGS.timeoutMs, rise: SETTINGS.rise, fall: SETTINGS.fall, jitter: 0.1 },
          ...(trio ? { etcd: { endpoints: etcd.endpoints, prefix: '/flotilla/trio/', leaseS: SETTINGS.leaseS, minVantages: 2 } } : {}),
        };
        const node = startNodeChild<StageEvent>('cluster-node.ts', cfg, `controller ${vantage}`);
        nodes.push(node);
        node.onEvent((e) => onStage(s.clock, e));
        await node.ready;
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
        await sleep(10);
      }
    };
    for (const s of setups) await until(s.zone, (v) => v.length === 3, 30_000);
    ctx.log('cluster: both setups serve all three mirrors');
    const times = new Map<string, number[]>(setups.map((s) => [s.label, []]));
    const stages = new Map<string, Record<string, number>[]>(setups.map((s) => [s.label, []]));
    for (let t = 0; t < trials; t++) {
      for (const s of t % 2 === 0 ? setups : [...setups].reverse()) {
        const victim = mirrorsOf.get(s.zone)![t % 3];
        await sleep(Math.random() * SETTINGS.intervalMs); // a random phase of the probe cycle
        s.clock.arm(victim.name);
        await victim.kill();
        const ms = await until(s.zone, (v) => v.length > 0 && !v.includes(victim.ip), 15_000);
        s.clock.at('gone at the DNS server', ms);
        await sleep(200); // stages after it (the last vantage down, the write's answer) and late events
        const st = s.clock.disarm();
        times.get(s.label)!.push(ms);
        stages.get(s.label)!.push(st);
        ctx.log(`cluster: trial ${t + 1}: ${s.label}: ${victim.ip} gone in ${Math.round(ms)} ms (${Object.entries(st).sort((a, b) => a[1] - b[1]).map(([k, x]) => `${k} ${Math.round(x)}`).join(', ')})`);
        await victim.start();
        await until(s.zone, (v) => v.length === 3, 15_000);
        await sleep(1500); // past the flap window's weight of one flip
      }
    }
    return report(trials, times, stages);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const ms of mirrorsOf.values()) for (const m of ms) await m.kill().catch(() => undefined);
    await embedded.close();
    await Promise.all(etcd.members.map((m) => m.stop()));
  }
}

function report(trials: number, times: Map<string, number[]>, stages: Map<string, Record<string, number>[]>): BenchOutput {
  const solo = summarize(times.get(SOLO)!);
  const trio = summarize(times.get(TRIO)!);
  const row = (label: string, x: Summary) => [label, x.n, num(x.median), num(x.p95), num(x.min), num(x.max)];
  const table = mdTable(['setup', 'trials', 'median ms', 'p95 ms', 'min', 'max'], [row(SOLO, solo), row(TRIO, trio)]);
  const stageRows = (label: string) => {
    const runs = stages.get(label)!;
    const names = [...new Set(runs.flatMap((r) => Object.keys(r)))].sort((a, b) => median(runs, a) - median(runs, b));
    return names.map((n) => {
      const xs = summarize(runs.map((r) => r[n]).filter((x) => x !== undefined));
      return [label, n, xs.n, num(xs.median), num(xs.p95)];
    });
  };
  const stageTable = mdTable(['setup', 'stage (ms after the kill)', 'trials', 'median', 'p95'], [...stageRows(SOLO), ...stageRows(TRIO)]);
  const medianRatio = ratioValue(trio.median, solo.median);
  const met = medianRatio !== undefined && medianRatio <= GOAL;
  const p95Ratio = ratioValue(trio.p95, solo.p95);
  const afterQuorum = summarize(stages.get(TRIO)!.map((r) => r['gone at the DNS server'] - r['vantage down #2']).filter(Number.isFinite));
  const afterFall = summarize(stages.get(SOLO)!.map((r) => r['gone at the DNS server'] - r['vantage down #1']).filter(Number.isFinite));
  const markdown = [
    `Kill → gone at the DNS server, ${trials} trials per setup, interleaved; interval ${SETTINGS.intervalMs} ms, timeout ${SETTINGS.timeoutMs} ms, rise ${SETTINGS.rise}, fall ${SETTINGS.fall}, lease ${SETTINGS.leaseS} s.`,
    '',
    table,
    '',
    `3 vantages / 1 vantage: **${medianRatio?.toFixed(2) ?? '–'}×** at the median, ${p95Ratio?.toFixed(2) ?? '–'}× at p95 (goal at the median ≤ ${GOAL}×: ${met ? 'met' : '**missed**'}).`,
    `From the verdict that made the quorum (the 2nd vantage down) to gone at the DNS server: median ${num(afterQuorum.median)} ms (p95 ${num(afterQuorum.p95)}); one vantage, from its own verdict: median ${num(afterFall.median)} ms (p95 ${num(afterFall.p95)}).`,
    '',
    'Where the time goes (each stage: ms after the kill; `#n` is the n-th vantage to get there, `leader heard #n` the n-th other vantage the leader learnt of):',
    '',
    stageTable,
  ].join('\n');
  return {
    name: 'cluster',
    markdown,
    data: { settings: SETTINGS, trials, solo, trio, ratio: medianRatio, p95Ratio, afterQuorum, afterFall, raw: Object.fromEntries(times), stages: Object.fromEntries(stages) },
    ratios: [
      { what: 'cluster kill → gone, median: 3 vantages on etcd (quorum 2) / 1 vantage, same settings (no peer: the cost of the quorum)', value: medianRatio, behind: !met, verdict: met ? 'goal met (≤ 1.3×)' : '**goal missed (> 1.3×)**' },
      { what: 'cluster kill → gone, p95: 3 vantages on etcd (quorum 2) / 1 vantage, same settings', value: p95Ratio, behind: false, verdict: 'for information (the goal is on the median)' },
    ],
  };
}

function median(runs: Record<string, number>[], stage: string): number {
  return summarize(runs.map((r) => r[stage]).filter((x) => x !== undefined)).median;
}

function etcdVersion(): string {
  try {
    return /etcd Version: (\S+)/.exec(execFileSync('etcd', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** Alone: `node --import tsx bench/cluster.ts [--trials N] [--quick]`. */
async function main(): Promise<void> {
  installCleanup();
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const i = argv.indexOf('--trials');
  const trials = i >= 0 ? Number(argv[i + 1]) : undefined;
  if (trials !== undefined && !(Number.isInteger(trials) && trials > 0)) throw new Error(`--trials takes a positive whole number; got "${argv[i + 1] ?? ''}"`);
  const t0 = performance.now();
  const log = (line: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const started = new Date();
  const out = await runCluster({ quick, contentDir: SITE_DIR, log }, { trials });
  const meta = {
    command: `node --import tsx bench/cluster.ts ${argv.join(' ')}`.trim(),
    date: started.toISOString().replace(/\.\d+Z$/, 'Z'),
    quick,
    machine: machineInfo(),
    durationS: Math.round((performance.now() - t0) / 1000),
    peers: { etcd: etcdVersion() },
  };
  const file = writeResult(out, meta);
  updateReadme([out], meta);
  console.log(`\n## cluster\n\n${out.markdown}\n`);
  log(`cluster done in ${meta.durationS} s → ${file}`);
  process.exit(0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
