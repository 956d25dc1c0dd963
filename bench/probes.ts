/**
 * Probe throughput and memory: flotilla's Controller probe loop (HttpProbe, keep-alive, 10 requests per connection)
 * against prometheus-blackbox-exporter on the same targets: one nginx process listening on N (address, port) pairs.
 * Every target is probed once per 2 s (timeout 1 s) by each system in turn (never both at once).
 * CPU is utime+stime of the prober's pid only (/proc/<pid>/stat) over the measurement window; memory is its VmRSS
 * and VmHWM. The exporter is driven by a separate node process scraping /probe at the same rate on the same slot
 * grid; that driver's CPU is excluded, but it runs on the same 2 cores. flotilla runs compiled (dist/, plain node, no
 * tsx) with the heap settings `flotilla daemon` applies (bin/daemon-heap.mjs), as the shipped daemon does.
 */
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchOutput } from './lib/context.ts';
import { startNginxTargets } from './lib/nginx-targets.ts';
import type { ProbeLoopConfig, WindowReport } from './lib/probe-loop.ts';
import { cpuSeconds, memoryMiB } from './lib/proc-stats.ts';
import { startNodeChild } from './lib/procs.ts';
import type { ScrapeDriverConfig, ScrapeWindowReport } from './lib/scrape-driver.ts';
import { mdTable, num, ratio, ratioValue, sleep } from './lib/stats.ts';
import { ensureBlackbox, startBlackbox } from './peers/blackbox.ts';

const INTERVAL_MS = 2000;
const TIMEOUT_MS = 1000;
/**
 * What `flotilla daemon` sets before it loads anything: the heap settings of bin/daemon-heap.mjs (deploy/flotilla.service
 * adds no node flags). --max-semi-space-size=1 idled at 95 MiB instead of 195 at 1,000 endpoints, but at 5,000 the
 * probe loop stopped answering within 60 s: not shipped.
 */
const DAEMON_NODE_FLAGS: string[] = ['--import', fileURLToPath(new URL('../bin/daemon-heap.mjs', import.meta.url))];

export interface ProbeRow {
  system: 'flotilla' | 'blackbox_exporter';
  endpoints: number;
  windowS: number;
  probes: number;
  expectedProbes: number;
  okShare: number;
  cpuS: number;
  /** CPU of the prober as a share of one core. */
  cpuPct: number;
  probesPerCpuS: number;
  rssMiB: number;
  peakRssMiB: number;
  driftP50: number;
  driftP99: number;
  driftMax?: number;
  missedSlots?: number;
  latencyP50?: number;
  latencyP99?: number;
  targetCpuPct: number;
  failures: Record<string, number>;
}

export async function runProbes(ctx: BenchContext): Promise<BenchOutput> {
  const sizes = ctx.quick ? [100, 1000] : [100, 1000, 5000];
  const windowMs = ctx.quick ? 10_000 : 30_000;
  ensureBlackbox();
  const nginx = await startNginxTargets(Math.max(...sizes));
  const rows: ProbeRow[] = [];
  let exporterVersion = 'unknown';
  const idle = { flotilla: NaN, blackbox: NaN };
  try {
    // idle baselines: the same processes with nothing to probe
    const idleLoop = startNodeChild('probe-loop.ts', { endpoints: [], intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS } satisfies ProbeLoopConfig, 'flotilla probe loop (idle)', { compiled: true, nodeFlags: DAEMON_NODE_FLAGS });
    try {
      await idleLoop.ready;
      await sleep(INTERVAL_MS);
      idle.flotilla = memoryMiB(idleLoop.pid).rss;
    } finally {
      await idleLoop.stop();
    }
    const idleExporter = await startBlackbox({ timeoutS: TIMEOUT_MS / 1000 });
    await sleep(INTERVAL_MS);
    idle.blackbox = memoryMiB(idleExporter.pid).rss;
    await idleExporter.stop();
    ctx.log(`probes: idle RSS flotilla ${idle.flotilla.toFixed(0)} MiB, blackbox_exporter ${idle.blackbox.toFixed(0)} MiB`);

    for (const n of sizes) {
      const endpoints = nginx.endpoints.slice(0, n);

      // flotilla
      const cfg: ProbeLoopConfig = { endpoints, intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS };
      const loop = startNodeChild('probe-loop.ts', cfg, `flotilla probe loop (${n})`, { compiled: true, nodeFlags: DAEMON_NODE_FLAGS });
      try {
        await loop.ready;
        // a loop that never brings every target up, or stops answering, is a result (a row saying so), not the end of
        // the run: the exporter is still measured at this size
        const deadline = Date.now() + 120_000;
        let up = 0;
        let failed: string | undefined;
        while ((up = await loop.request<number>('upCount', {}, 20_000).catch(() => -1)) < n) {
          if (Date.now() > deadline) {
            failed = up < 0 ? 'probe loop stopped answering (no answer within 20 s) before all targets were up' : `only ${up} of ${n} targets up after 120 s`;
            break;
          }
          await sleep(250);
        }
        if (failed !== undefined) {
          const mem = memoryMiB(loop.pid);
          rows.push(row('flotilla', n, windowMs, 0, 0, 0, NaN, mem, NaN, { failures: { [failed]: 1 } }));
          ctx.log(`probes: flotilla ${n} endpoints: ${failed}; RSS ${mem.rss.toFixed(0)} MiB`);
        } else {
          await sleep(INTERVAL_MS);
          const c0 = cpuSeconds(loop.pid);
          const g0 = cpuSeconds(nginx.pid);
          await loop.request('mark');
          await sleep(windowMs);
          const r = await loop.request<WindowReport>('collect');
          const c1 = cpuSeconds(loop.pid);
          const g1 = cpuSeconds(nginx.pid);
          const mem = memoryMiB(loop.pid);
          rows.push(row('flotilla', n, r.windowMs, r.probes, r.expectedProbes, r.ok, c1 - c0, mem, g1 - g0, {
            driftP50: r.driftP50, driftP99: r.driftP99, driftMax: r.driftMax, missedSlots: r.missedSlots, failures: r.failures,
          }));
          ctx.log(`probes: flotilla ${n} endpoints: ${r.probes} probes, ${(c1 - c0).toFixed(2)} CPU-s, RSS ${mem.rss.toFixed(0)} MiB, drift p99 ${r.driftP99} ms`);
        }
      } finally {
        await loop.stop();
      }

      // blackbox exporter, fresh for each size so its memory is this size's
      const exporter = await startBlackbox({ timeoutS: TIMEOUT_MS / 1000 });
      exporterVersion = exporter.version;
      const dcfg: ScrapeDriverConfig = { exporterUrl: exporter.url, endpoints, intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS };
      const driver = startNodeChild('scrape-driver.ts', dcfg, `blackbox scrape driver (${n})`);
      try {
        await driver.ready;
        await sleep(2 * INTERVAL_MS);
        const c0 = cpuSeconds(exporter.pid);
        const g0 = cpuSeconds(nginx.pid);
        await driver.request('mark');
        await sleep(windowMs);
        const r = await driver.request<ScrapeWindowReport>('collect');
        const c1 = cpuSeconds(exporter.pid);
        const g1 = cpuSeconds(nginx.pid);
        const mem = memoryMiB(exporter.pid);
        rows.push(row('blackbox_exporter', n, r.windowMs, r.probes, r.expectedProbes, r.ok, c1 - c0, mem, g1 - g0, {
          driftP50: r.driftP50, driftP99: r.driftP99, latencyP50: r.latencyP50, latencyP99: r.latencyP99, failures: r.errors,
        }));
        ctx.log(`probes: blackbox ${n} endpoints: ${r.probes} probes, ${(c1 - c0).toFixed(2)} CPU-s, RSS ${mem.rss.toFixed(0)} MiB, scrape p99 ${r.latencyP99.toFixed(1)} ms`);
      } finally {
        await driver.stop();
        await exporter.stop();
      }
    }
  } finally {
    await nginx.stop();
  }
  return report(rows, sizes, windowMs, exporterVersion, idle);
}

const signed = (v: number) => (Number.isFinite(v) ? `${v < 0 ? '−' : '+'}${num(Math.abs(v), 0)}` : '–');

function row(
  system: ProbeRow['system'], n: number, windowMs: number, probes: number, expected: number, ok: number, cpuS: number,
  mem: { rss: number; peak: number }, targetCpuS: number, extra: Partial<ProbeRow> & { failures: Record<string, number> },
): ProbeRow {
  return {
    system, endpoints: n, windowS: windowMs / 1000, probes, expectedProbes: expected, okShare: probes ? ok / probes : NaN,
    cpuS, cpuPct: (100 * cpuS) / (windowMs / 1000), probesPerCpuS: cpuS > 0 ? probes / cpuS : NaN,
    rssMiB: mem.rss, peakRssMiB: mem.peak, driftP50: NaN, driftP99: NaN, targetCpuPct: (100 * targetCpuS) / (windowMs / 1000), ...extra,
  };
}

function report(rows: ProbeRow[], sizes: number[], windowMs: number, exporterVersion: string, idle: { flotilla: number; blackbox: number }): BenchOutput {
  const md: string[] = [];
  md.push(`Every target probed once per ${INTERVAL_MS / 1000} s (timeout ${TIMEOUT_MS / 1000} s), measured over ${windowMs / 1000} s after warm-up; ` +
    `targets: one nginx process on N (127.0.1.x, port) pairs. blackbox_exporter ${exporterVersion} was driven by a node process scraping ` +
    '`/probe?module=http_2xx&target=…` on the same slot grid (keep-alive pool of up to 256 connections); only the exporter\'s CPU and memory are counted.\n');
  md.push(mdTable(
    ['prober', 'endpoints', 'probes (expected)', 'ok', 'CPU (% of a core)', 'probes / CPU-s', 'RSS MiB (peak)', 'schedule drift p50 / p99 / max ms', 'missed slots', 'scrape latency p50 / p99 ms', 'nginx CPU %'],
    rows.map((r) => [
      r.system, r.endpoints, `${r.probes} (${r.expectedProbes})`, `${num(100 * r.okShare, 1)}%`, num(r.cpuPct, 1), num(r.probesPerCpuS, 0),
      `${num(r.rssMiB, 0)} (${num(r.peakRssMiB, 0)})`,
      r.system === 'flotilla' ? `${num(r.driftP50)} / ${num(r.driftP99)} / ${num(r.driftMax)}` : `driver: ${num(r.driftP50)} / ${num(r.driftP99)} / –`,
      r.missedSlots ?? '–',
      r.latencyP50 !== undefined ? `${num(r.latencyP50, 1)} / ${num(r.latencyP99, 1)}` : '–',
      num(r.targetCpuPct, 1),
    ]),
  ));
  md.push('');
  md.push(`Idle RSS with nothing to probe: flotilla's probe loop (node ${process.version}, compiled dist/ controller, no tsx) ${num(idle.flotilla, 0)} MiB, ` +
    `blackbox_exporter ${num(idle.blackbox, 0)} MiB. RSS growth from idle: ` +
    sizes.map((n) => {
      const f = rows.find((r) => r.system === 'flotilla' && r.endpoints === n);
      const b = rows.find((r) => r.system === 'blackbox_exporter' && r.endpoints === n);
      return `${n} endpoints flotilla ${signed((f?.rssMiB ?? NaN) - idle.flotilla)} MiB, blackbox_exporter ${signed((b?.rssMiB ?? NaN) - idle.blackbox)} MiB`;
    }).join('; ') + '.\n');
  const fails = rows.filter((r) => Object.keys(r.failures).length > 0);
  if (fails.length > 0) md.push(`Failed probes: ${fails.map((r) => `${r.system} at ${r.endpoints}: ${Object.entries(r.failures).map(([k, v]) => `${v}× ${k}`).join(', ')}`).join('; ')}.\n`);
  const ratios: BenchOutput['ratios'] = [];
  const ratioRows = sizes.map((n) => {
    const f = rows.find((r) => r.system === 'flotilla' && r.endpoints === n);
    const b = rows.find((r) => r.system === 'blackbox_exporter' && r.endpoints === n);
    // a loop that never ran the window (a failure row) has no memory to compare: its RSS is shown, not divided
    const fRss = f && f.probes > 0 ? f.rssMiB : undefined;
    const eff = ratioValue(f?.probesPerCpuS, b?.probesPerCpuS);
    const mem = ratioValue(fRss, b?.rssMiB);
    ratios.push({ what: `probes per CPU-second at ${n} endpoints, flotilla / blackbox_exporter (above 1× flotilla is better)`, value: eff, behind: eff !== undefined && eff < 0.95 });
    ratios.push({ what: `RSS at ${n} endpoints, flotilla / blackbox_exporter (below 1× flotilla is better)`, value: mem, behind: mem !== undefined && mem > 1.05 });
    return [n, ratio(f?.probesPerCpuS, b?.probesPerCpuS), ratio(f?.cpuPct, b?.cpuPct), ratio(fRss, b?.rssMiB)];
  });
  md.push('**Ratios** (flotilla / blackbox_exporter)\n');
  md.push(mdTable(['endpoints', 'probes per CPU-second (higher = flotilla better)', 'CPU for the same load (lower = flotilla better)', 'RSS (lower = flotilla better)'], ratioRows));
  md.push('');
  return { name: 'probes', markdown: md.join('\n'), data: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS, windowMs, exporterVersion, idleRssMiB: idle, rows }, ratios };
}
