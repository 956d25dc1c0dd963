/**
 * False flips. Each system watches its own three mirrors (one node process per system serves them, bench/lib/bench-mirror.ts):
 * two healthy and one misbehaving in one of three ways, all at once for `duration`:
 * - drop-every-10th: every 10th request to that mirror gets its socket closed unanswered (as the test mirror does);
 * - drop-random-10pct: each request is dropped with probability 0.1;
 * - jitter: every answer is delayed by an exponential random time, mean 50 ms (p99 ≈ 230 ms), capped at 1.5 s.
 * Each system's DNS answer is sampled every 50 ms; a removal is a sample without the mirror after one with it.
 * Systems: flotilla 250 ms/200 ms/fall 3, flotilla 2 s/1 s/fall 3, gdnsd (2 s, down_thresh 3, ok_thresh 10, timeout
 * 1 s), PowerDNS LUA ifurlup (checks every 1 s, timeout 1 s, no hysteresis).
 */
import type { BenchContext, BenchOutput } from './lib/context.ts';
import type { BenchMirrorConfig, BenchMirrorMode, ListenerStats } from './lib/bench-mirror.ts';
import { DnsWatch, hasAll, type DnsSample } from './lib/dns-watch.ts';
import type { FlipEvent, FlotillaNodeConfig } from './lib/flotilla-node.ts';
import { commonFreePort } from './lib/ports.ts';
import { startNodeChild, type NodeChild } from './lib/procs.ts';
import { mdTable, num, sleep } from './lib/stats.ts';
import { SYSTEMS } from './lib/systems.ts';
import { ensureGdnsd, startGdnsd } from './peers/gdnsd.ts';
import { ensurePdnsLua, startPdnsLua } from './peers/pdns-lua.ts';
import { createNetNs, netnsUnavailable } from '../test/support/netns.ts';

const ZONE = 'flotilla.test';
const SAMPLE_MS = 50;
const VARIANTS: { key: string; mode: BenchMirrorMode; label: string }[] = [
  { key: 'drop10th', mode: 'drop-every-10th', label: 'drops every 10th request' },
  { key: 'droprnd', mode: 'drop-random-10pct', label: 'drops 10% of requests at random' },
  { key: 'jitter', mode: 'jitter', label: 'latency jitter (exp. mean 50 ms)' },
];
const SYSTEM_KEYS = ['f250', 'f2s', 'gdnsd', 'lua', 'f250nofast'] as const;
type SystemKey = (typeof SYSTEM_KEYS)[number];

/** The three mirrors of one (variant, system): 127.0.<40 + 5v + s>.11-13; .11 misbehaves. */
function trio(v: number, s: number): string[] {
  return [11, 12, 13].map((h) => `127.0.${40 + SYSTEM_KEYS.length * v + s}.${h}`);
}

interface Cell {
  variant: string;
  system: SystemKey;
  watch: DnsWatch;
  flaky: string;
  ips: string[];
}

export interface FlakyRow {
  variant: string;
  system: string;
  samples: number;
  errors: number;
  removals: number;
  missingShare: number;
  flotillaDownFlips?: number;
  /** The reason of the probe behind each of those down flips. */
  downReasons?: string[];
  requests: number;
  dropped: number;
  slowOver200ms: number;
  slowOver1s: number;
}

export async function runFlaky(ctx: BenchContext): Promise<BenchOutput> {
  const durationMs = ctx.quick ? 30_000 : 120_000;
  ensureGdnsd();
  ensurePdnsLua();
  const stoppers: (() => Promise<unknown>)[] = [];
  try {
    const allIps = VARIANTS.flatMap((_, v) => SYSTEM_KEYS.flatMap((__, s) => trio(v, s)));
    const port = await commonFreePort(allIps);
    // one mirror process per system: a system's probes (and a slow answer's retries) never queue behind another's
    const mirrorProcs = SYSTEM_KEYS.map((_, s) => {
      const cfg: BenchMirrorConfig = {
        contentDir: ctx.contentDir,
        jitterMeanMs: 50,
        jitterCapMs: 1500,
        slowThresholdsMs: [200, 1000],
        listeners: VARIANTS.flatMap((vr, v) => trio(v, s).map((ip, j) => ({ ip, port, mode: j === 0 ? vr.mode : ('ok' as const) }))),
      };
      const m = startNodeChild('bench-mirror.ts', cfg, `bench mirrors ${SYSTEM_KEYS[s]}`);
      stoppers.push(() => m.stop());
      return m;
    });
    await Promise.all(mirrorProcs.map((m) => m.ready));
    const mirror = {
      request: async <T>(type: string): Promise<T> => (await Promise.all(mirrorProcs.map((m) => m.request<unknown[]>(type)))).flat() as T,
    };
    ctx.log(`flaky: ${allIps.length} mirror listeners on port ${port}, ${mirrorProcs.length} processes`);

    const sIdx = (k: SystemKey) => SYSTEM_KEYS.indexOf(k);
    const gdnsd = await startGdnsd({
      zone: ZONE,
      ttl: 5,
      resources: VARIANTS.map((vr, v) => ({ name: vr.key, addresses: trio(v, sIdx('gdnsd')), port, path: '/', vhost: ZONE })),
      settings: { interval: 2, downThresh: 3, upThresh: 2, okThresh: 10, timeout: 1 },
    });
    stoppers.push(() => gdnsd.stop());
    const lua = await startPdnsLua({
      zone: ZONE,
      ttl: 5,
      records: VARIANTS.map((vr, v) => ({ name: vr.key, addresses: trio(v, sIdx('lua')), port, host: ZONE, path: '/' })),
      settings: { interval: 1, timeout: 1 },
    });
    stoppers.push(() => lua.stop());

    const cells: Cell[] = [];
    const flips: { variant: string; system: SystemKey; e: FlipEvent }[] = [];
    const children: Promise<void>[] = [];
    const nodes = new Map<string, NodeChild<FlipEvent>>();
    VARIANTS.forEach((vr, v) => {
      // f250nofast: flotilla 250ms as it probed before fast re-probes (fastInterval = interval), the baseline in this same run
      for (const system of ['f250', 'f2s', 'f250nofast'] as const) {
        const ips = trio(v, sIdx(system));
        const cfg: FlotillaNodeConfig = {
          label: `${system}-${vr.key}`, zone: ZONE, mirrors: ips.map((ip, j) => ({ name: 'abc'[j], ip, port })),
          intervalMs: system === 'f2s' ? 2000 : 250, timeoutMs: system === 'f2s' ? 1000 : 200, rise: 2, fall: 3, jitter: 0.1,
          contentDir: ctx.contentDir, ttl: 5, fastIntervalMs: system === 'f250nofast' ? 250 : undefined,
        };
        const child: NodeChild<FlipEvent> = startNodeChild<FlipEvent>('flotilla-node.ts', cfg, `flotilla ${system} ${vr.key}`, { compiled: true });
        stoppers.push(() => child.stop());
        nodes.set(`${system} ${vr.key}`, child);
        child.onEvent((e) => flips.push({ variant: vr.key, system, e }));
        children.push(child.ready.then((r) => {
          const addr = (r as { servers: { address: string }[] }).servers[0].address;
          cells.push({ variant: vr.key, system, flaky: ips[0], ips, watch: new DnsWatch({ label: `${system} ${vr.key}`, server: addr, name: ZONE, everyMs: SAMPLE_MS }) });
        }));
      }
      cells.push({ variant: vr.key, system: 'gdnsd', flaky: trio(v, sIdx('gdnsd'))[0], ips: trio(v, sIdx('gdnsd')), watch: new DnsWatch({ label: `gdnsd ${vr.key}`, server: gdnsd.address, name: `${vr.key}.${ZONE}`, everyMs: SAMPLE_MS }) });
      cells.push({ variant: vr.key, system: 'lua', flaky: trio(v, sIdx('lua'))[0], ips: trio(v, sIdx('lua')), watch: new DnsWatch({ label: `lua ${vr.key}`, server: lua.address, name: `${vr.key}.${ZONE}`, everyMs: SAMPLE_MS }) });
    });
    await Promise.all(children);
    for (const c of cells) c.watch.start();
    stoppers.push(() => Promise.all(cells.map((c) => c.watch.stop())));

    // warm up: every system answers all three of its mirrors once
    const t0 = performance.now();
    const late = await Promise.all(cells.map(async (c) => ((await c.watch.waitFor(hasAll(c.ips), { since: t0, timeoutMs: 60_000 })) === undefined ? c.watch.label : '')));
    if (late.some(Boolean)) {
      // what a flotilla that never answered all three thinks of its mirrors
      const why = await Promise.all(late.filter(Boolean).map(async (l) => {
        const h = await nodes.get(l)?.request<Record<string, { state: string; lastReason: string; recentFlips: number[] }>>('health').catch(() => undefined);
        return h ? `${l}: ${Object.entries(h).map(([m, x]) => `${m} ${x.state} (${x.lastReason}, ${x.recentFlips.length} recent flips)`).join(', ')}` : l;
      }));
      throw new Error(`flaky: never answered all three mirrors: ${why.join('; ')}; DNS said ${late.filter(Boolean).map((l) => `${l}: ${cells.find((c) => c.watch.label === l)?.watch.latest?.values.join(' ') ?? 'nothing'}`).join('; ')}`);
    }

    await mirror.request('reset');
    const windowStartEpoch = performance.timeOrigin + performance.now();
    for (const c of cells) c.watch.record = true;
    ctx.log(`flaky: watching ${cells.length} (variant, system) pairs for ${durationMs / 1000} s`);
    await sleep(durationMs);
    for (const c of cells) c.watch.record = false;
    const windowEndEpoch = performance.timeOrigin + performance.now();
    const stats = await mirror.request<ListenerStats[]>('stats');

    const rows: FlakyRow[] = cells.map((c) => {
      const st = stats.find((s) => s.ip === c.flaky)!;
      const { removals, missing, ok, errors } = countRemovals(c.watch.samples, c.flaky);
      const row: FlakyRow = {
        variant: c.variant,
        system: SYSTEMS[c.system],
        samples: ok,
        errors,
        removals,
        missingShare: ok > 0 ? missing / ok : NaN,
        requests: st.requests,
        dropped: st.dropped,
        slowOver200ms: st.slowerThan['200'] ?? 0,
        slowOver1s: st.slowerThan['1000'] ?? 0,
      };
      if (c.system === 'f250' || c.system === 'f2s' || c.system === 'f250nofast') {
        const downs = flips.filter((f) => f.variant === c.variant && f.system === c.system && f.e.mirror === 'a' && f.e.state === 'down' && f.e.at >= windowStartEpoch && f.e.at <= windowEndEpoch);
        row.flotillaDownFlips = downs.length;
        row.downReasons = downs.map((f) => f.e.reason);
      }
      return row;
    });
    rows.sort((a, b) => VARIANTS.findIndex((v) => v.key === a.variant) - VARIANTS.findIndex((v) => v.key === b.variant) || Object.values(SYSTEMS).indexOf(a.system as never) - Object.values(SYSTEMS).indexOf(b.system as never));
    return report(rows, durationMs, port);
  } finally {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  }
}

/** Removals = samples without `ip` right after one with it; errors (no answer) are neither. */
export function countRemovals(samples: readonly DnsSample[], ip: string): { removals: number; missing: number; ok: number; errors: number } {
  let removals = 0;
  let missing = 0;
  let ok = 0;
  let errors = 0;
  let present: boolean | undefined;
  for (const s of samples) {
    if (!s.ok) { errors++; continue; }
    ok++;
    const now = s.values.includes(ip);
    if (!now) missing++;
    if (present === true && !now) removals++;
    present = now;
  }
  return { removals, missing, ok, errors };
}

function report(rows: FlakyRow[], durationMs: number, port: number): BenchOutput {
  const md: string[] = [];
  md.push(`Each system watched its own flaky mirror for ${durationMs / 1000} s; its answer was sampled every ${SAMPLE_MS} ms. ` +
    'Removals = times the flaky mirror left the answer; missing = share of samples without it. Zero is the goal.\n');
  const label = (k: string) => VARIANTS.find((v) => v.key === k)!.label;
  md.push(mdTable(
    ['flaky mirror', 'system', 'removals', 'missing share', 'requests it got', 'dropped', 'answers > 200 ms', 'answers > 1 s', 'DNS samples'],
    rows.map((r) => [label(r.variant), r.system, r.removals, `${num(100 * r.missingShare, 2)}%`, r.requests, r.dropped, r.variant === 'jitter' ? r.slowOver200ms : '–', r.variant === 'jitter' ? r.slowOver1s : '–', r.samples + (r.errors ? ` (+${r.errors} errors)` : '')]),
  ));
  md.push('');
  const ratios: BenchOutput['ratios'] = [];
  const find = (v: string, s: string) => rows.find((r) => r.variant === v && r.system === s);
  for (const v of VARIANTS) {
    const f = find(v.key, SYSTEMS.f250);
    const f2 = find(v.key, SYSTEMS.f2s);
    for (const [peerName, flo] of [[SYSTEMS.gdnsd, f2], [SYSTEMS.lua, f]] as const) {
      const p = find(v.key, peerName);
      if (!p || !flo) continue;
      const a = flo.missingShare;
      const b = p.missingShare;
      const value = b > 0 ? a / b : a === 0 ? 1 : undefined;
      ratios.push({
        what: `false flips, ${v.label}: ${flo.system} ${flo.removals} removal(s), ${num(100 * a, 2)}% missing vs ${peerName} ${p.removals}, ${num(100 * b, 2)}% (ratio of missing shares)`,
        value,
        behind: flo.removals > p.removals || a > b,
      });
    }
    // fast re-probes must not cost false flips: flotilla 250ms with them against without, in this same run
    const nf = find(v.key, SYSTEMS.f250nofast);
    if (f && nf) {
      const value = nf.missingShare > 0 ? f.missingShare / nf.missingShare : f.missingShare === 0 ? 1 : undefined;
      ratios.push({
        what: `false flips, ${v.label}: flotilla 250ms/fall 3 with fast re-probes ${f.removals} removal(s), ${num(100 * f.missingShare, 2)}% missing vs without them (same run) ${nf.removals}, ${num(100 * nf.missingShare, 2)}%`,
        value,
        behind: f.removals > nf.removals,
      });
    }
  }
  md.push('flotilla\'s own audit counted these down flips of the flaky mirror in the window: ' +
    rows.filter((r) => r.flotillaDownFlips !== undefined).map((r) => `${r.system}, ${label(r.variant)}: ${r.flotillaDownFlips}${r.downReasons?.length ? ` (${r.downReasons.join(', ')})` : ''}`).join('; ') + '.\n');
  return { name: 'flaky', markdown: md.join('\n'), data: { durationMs, sampleMs: SAMPLE_MS, port, rows }, ratios };
}

/**
 * Packet loss (issue 15): the same false-flip question, with real lost packets instead of dropped requests. The
 * mirrors and flotilla run in a network namespace the bench creates (test/support/netns.ts); iptables there drops
 * 10% of the packets to AND from the flaky mirror's port at random (`statistic --mode random`), so requests,
 * responses, SYNs and ACKs are all lost now and then and TCP retransmits (≥ 200 ms, 1 s for a SYN). No peer runs
 * here (gdnsd and PowerDNS listen outside the namespace); the comparison is flotilla as it probed before hedging
 * and fast re-probes (one connection per probe, slot interval only) against flotilla now. Removals are down flips
 * of the flaky mirror (with two healthy mirrors beside it, a down flip is a removal from DNS); the missing share
 * is the time it spent down over the window.
 */
const LOSS_SYSTEMS = [
  { key: 'f250', label: 'flotilla 250ms/fall 3 (hedged, fast re-probe)', intervalMs: 250, timeoutMs: 200 },
  { key: 'f250-single', label: 'flotilla 250ms/fall 3, one attempt, no fast re-probe (as before)', intervalMs: 250, timeoutMs: 200, maxAttempts: 1, fastIntervalMs: 250 },
  { key: 'f2s', label: 'flotilla 2s/fall 3 (hedged, fast re-probe)', intervalMs: 2000, timeoutMs: 1000 },
] as const;

export interface LossRow {
  system: string;
  removals: number;
  missingShare: number;
  probes: number;
  failedProbes: number;
  hedgedProbes: number;
  droppedPackets: number;
}

export async function runPacketLoss(ctx: BenchContext): Promise<BenchOutput> {
  const durationMs = ctx.quick ? 60_000 : 600_000;
  const unavailable = netnsUnavailable();
  if (unavailable) throw new Error(`packet-loss: ${unavailable}`);
  const ns = createNetNs('flt-bench');
  const stoppers: (() => Promise<unknown>)[] = [];
  try {
    const trios = LOSS_SYSTEMS.map((_, s) => [11, 12, 13].map((h) => `127.0.${60 + s}.${h}`));
    const port = 8080; // the namespace is ours alone: every port is free
    const mirrorCfg: BenchMirrorConfig = {
      contentDir: ctx.contentDir, jitterMeanMs: 50, jitterCapMs: 1500, slowThresholdsMs: [],
      listeners: trios.flat().map((ip) => ({ ip, port, mode: 'ok' as const })),
    };
    const mirror = startNodeChild('bench-mirror.ts', mirrorCfg, 'bench mirrors (netns)', { netns: ns.name });
    stoppers.push(() => mirror.stop());
    await mirror.ready;
    const flips: { system: string; e: FlipEvent }[] = [];
    const nodes = LOSS_SYSTEMS.map((sys, s) => {
      const cfg: FlotillaNodeConfig = {
        label: `loss-${sys.key}`, zone: ZONE, mirrors: trios[s].map((ip, j) => ({ name: 'abc'[j], ip, port })),
        intervalMs: sys.intervalMs, timeoutMs: sys.timeoutMs, rise: 2, fall: 3, jitter: 0.1, contentDir: ctx.contentDir, ttl: 5,
        maxAttempts: 'maxAttempts' in sys ? sys.maxAttempts : undefined, fastIntervalMs: 'fastIntervalMs' in sys ? sys.fastIntervalMs : undefined,
      };
      const child = startNodeChild<FlipEvent>('flotilla-node.ts', cfg, `flotilla ${sys.key} (netns)`, { netns: ns.name, compiled: true });
      stoppers.push(() => child.stop());
      child.onEvent((e) => flips.push({ system: sys.key, e }));
      return child;
    });
    await Promise.all(nodes.map((n) => n.ready));
    // warm up: every mirror of every system up
    const deadline = Date.now() + 60_000;
    for (const n of nodes) {
      for (;;) {
        const h = await n.request<Record<string, { state: string }>>('health');
        if (['a', 'b', 'c'].every((m) => h[m]?.state === 'up')) break;
        if (Date.now() > deadline) throw new Error('packet-loss: mirrors never came up');
        await sleep(100);
      }
    }
    for (const [s] of LOSS_SYSTEMS.entries()) {
      for (const dir of [['-d', trios[s][0], '--dport'], ['-s', trios[s][0], '--sport']]) {
        ns.iptables('-A', 'INPUT', '-p', 'tcp', dir[0], dir[1], dir[2], String(port), '-m', 'statistic', '--mode', 'random', '--probability', '0.1', '-j', 'DROP');
      }
    }
    await Promise.all(nodes.map((n) => n.request('probeStats')));
    const t0 = performance.timeOrigin + performance.now();
    ctx.log(`packet-loss: 10% random loss both ways on one mirror of each of ${nodes.length} flotillas for ${durationMs / 1000} s`);
    await sleep(durationMs);
    const t1 = performance.timeOrigin + performance.now();
    const stats = await Promise.all(nodes.map((n) => n.request<Record<string, { probes: number; failed: number; hedged: number }>>('probeStats')));
    const counters = ns.exec('iptables', ['-L', 'INPUT', '-v', '-x', '-n']).split('\n').filter((l) => l.includes('DROP'));
    const rows: LossRow[] = LOSS_SYSTEMS.map((sys, s) => {
      const mine = flips.filter((f) => f.system === sys.key && f.e.mirror === 'a');
      const dropped = counters.filter((l) => l.includes(trios[s][0])).reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]), 0);
      return { system: sys.label, ...downTime(mine.map((f) => f.e), t0, t1), probes: stats[s].a?.probes ?? 0, failedProbes: stats[s].a?.failed ?? 0, hedgedProbes: stats[s].a?.hedged ?? 0, droppedPackets: dropped };
    });
    return lossReport(rows, durationMs);
  } finally {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
    ns.destroy();
  }
}

/** Down flips of one mirror in [t0, t1] and the share of that window it spent down. */
export function downTime(flips: readonly { state: string; at: number }[], t0: number, t1: number): { removals: number; missingShare: number } {
  let removals = 0;
  let down = 0;
  let downSince: number | undefined;
  for (const f of [...flips].sort((a, b) => a.at - b.at)) {
    if (f.at < t0 || f.at > t1) continue;
    if (f.state === 'down' && downSince === undefined) { removals++; downSince = f.at; }
    else if (f.state === 'up' && downSince !== undefined) { down += f.at - downSince; downSince = undefined; }
  }
  if (downSince !== undefined) down += t1 - downSince;
  return { removals, missingShare: down / (t1 - t0) };
}

function lossReport(rows: LossRow[], durationMs: number): BenchOutput {
  const md: string[] = [];
  md.push(`One mirror of each flotilla lost 10% of its packets at random, both ways (iptables \`statistic --mode random\` in a network namespace), for ${durationMs / 1000} s. ` +
    'Removals = down flips of that mirror; missing = share of the window it spent out of DNS. Zero is the goal.\n');
  md.push(mdTable(
    ['system', 'removals', 'missing share', 'probes of it', 'failed probes', 'probes that needed a companion', 'packets dropped'],
    rows.map((r) => [r.system, r.removals, `${num(100 * r.missingShare, 2)}%`, r.probes, `${r.failedProbes} (${num(r.probes ? (100 * r.failedProbes) / r.probes : NaN, 2)}%)`, r.hedgedProbes, r.droppedPackets]),
  ));
  md.push('');
  const now = rows[0];
  const before = rows[1];
  const value = before.missingShare > 0 ? now.missingShare / before.missingShare : now.missingShare === 0 ? 1 : undefined;
  return {
    name: 'packet-loss',
    markdown: md.join('\n'),
    data: { durationMs, rows },
    ratios: [{
      what: `false flips, 10% random packet loss (no peer: flotilla before hedging as the baseline): ${now.system} ${now.removals} removal(s), ${num(100 * now.missingShare, 2)}% missing vs ${before.system} ${before.removals}, ${num(100 * before.missingShare, 2)}%`,
      value,
      behind: now.removals > 0,
    }],
  };
}
