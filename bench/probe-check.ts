/**
 * Quick check of the probe loop at one size (default 5,000): one nginx with N targets, the compiled probe loop of
 * bench/lib/probe-loop.ts (as bench/probes.ts runs it, no node flags unless FLAGS is set), how many targets are up
 * each few seconds for `upWithinS`, then (if all came up) the drift over a window. Prints one JSON line at the end.
 *   node --import tsx bench/probe-check.ts [endpoints=5000] [upWithinS=30] [windowS=20]
 */
import { startNginxTargets } from './lib/nginx-targets.ts';
import type { ProbeLoopConfig, WindowReport } from './lib/probe-loop.ts';
import { cpuSeconds } from './lib/proc-stats.ts';
import { installCleanup, startNodeChild } from './lib/procs.ts';

const n = Number(process.argv[2] ?? 5000);
const upWithinS = Number(process.argv[3] ?? 30);
const windowS = Number(process.argv[4] ?? 20);
const nodeFlags = (process.env.FLAGS ?? '').split(' ').filter(Boolean);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

installCleanup();
const nginx = await startNginxTargets(n);
const cfg: ProbeLoopConfig = { endpoints: nginx.endpoints, intervalMs: 2000, timeoutMs: 1000 };
const loop = startNodeChild('probe-loop.ts', cfg, `probe loop (${n})`, { compiled: true, nodeFlags });
const out: Record<string, unknown> = { endpoints: n };
try {
  await loop.ready;
  const t0 = Date.now();
  let up = 0;
  let maxWaitMs = 0;
  const trace: string[] = [];
  while (Date.now() - t0 < upWithinS * 1000) {
    const a = Date.now();
    up = await loop.request<number>('upCount', {}, 20_000).catch(() => -1);
    maxWaitMs = Math.max(maxWaitMs, Date.now() - a);
    trace.push(`${((Date.now() - t0) / 1000).toFixed(0)}s:${up}`);
    if (up === n) break;
    await sleep(2000);
  }
  Object.assign(out, { up, upAfterS: (Date.now() - t0) / 1000, maxAnswerMs: maxWaitMs, trace: trace.join(' ') });
  if (up === n && windowS > 0) {
    await sleep(2000);
    const c0 = cpuSeconds(loop.pid);
    await loop.request('mark');
    await sleep(windowS * 1000);
    const r = await loop.request<WindowReport>('collect', {}, 30_000);
    const c1 = cpuSeconds(loop.pid);
    Object.assign(out, { probes: r.probes, expected: r.expectedProbes, ok: r.ok, driftP50: r.driftP50, driftP99: r.driftP99, driftMax: r.driftMax, missedSlots: r.missedSlots, cpuPct: Math.round((100 * (c1 - c0)) / windowS) });
  }
} finally {
  await loop.stop();
  await nginx.stop();
}
console.log(JSON.stringify(out));
process.exit(0);
