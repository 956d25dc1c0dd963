/**
 * Child-process entry: flotilla's real Controller (HttpProbe, the jittered slot schedule of probe-schedule.ts,
 * rise/fall tracking, periodic state saves) probing `endpoints` as mirrors, writing to an in-memory driver so only
 * the probe loop is measured. Jitter is 0 so every deviation from the slot grid is lateness.
 *
 * Drift: each mirror's slots are start + offset_i + k × interval (offset_i from initialOffsets). `start` is taken as
 * the earliest (a probe's start − offset_i − k × interval) over every probe of every mirror, k counting that mirror's
 * probes from 0 (a timer never fires early, so this is the grid's origin plus the least lateness seen, ~0 when the
 * schedule holds; a skipped slot only makes later terms larger). Not the first probes alone: at 5,000 mirrors every
 * first probe ran 30-40 ms late while every later one kept the grid, and an origin read from them put every later
 * probe "40 ms early", i.e. ~1,960 ms late, with a slot "missed" at each wobble across the boundary. A mirror whose
 * probe failed may get fast re-probes between its slots, so it stops counting for the origin. A probe's drift is how
 * late it ran after its slot, and a skipped slot (a stall longer than the interval) is counted as missed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { Controller } from '../../src/controller/controller.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { initialOffsets } from '../../src/probes/probe-schedule.ts';
import type { ProbeResult } from '../../src/probes/probe-result.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { MemoryDriver } from './memory-driver.ts';
import { childMain } from './procs.ts';

export interface ProbeLoopConfig {
  endpoints: { ip: string; port: number }[];
  intervalMs: number;
  timeoutMs: number;
}

export interface WindowReport {
  probes: number;
  ok: number;
  /** Lateness after the slot, ms: p50 / p99 / max, over the window. */
  driftP50: number;
  driftP99: number;
  driftMax: number;
  missedSlots: number;
  windowMs: number;
  expectedProbes: number;
  failures: Record<string, number>;
}

await childMain<ProbeLoopConfig>(async (cfg) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-probes-'));
  const n = cfg.endpoints.length;
  const spec: FleetSpec = {
    stack: 'bench-probes',
    site: { name: 'targets', contentDir: stateDir, digest: '', files: {} },
    domain: 'probes.test',
    alternateDomains: [],
    mirrors: cfg.endpoints.map((e, i) => ({ name: `m${i}`, provider: 'local', ipv4: e.ip, settings: {}, health: { port: e.port } })),
    dnsProviders: [],
    registrars: [],
    health: { intervalMs: cfg.intervalMs, timeoutMs: cfg.timeoutMs, rise: 2, fall: 3, path: '/', scheme: 'http', expectStatus: [200], checkDigest: false, tlsMinDays: 7, jitter: 0 },
    canaries: [],
    policy: { ttl: 60, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'bench' },
    state: { kind: 'file', path: stateDir, endpoints: [] },
    server: { listen: '127.0.0.1', port: 0, tokenEnv: 'UNUSED' },
  };
  const driver = new MemoryDriver('memory', ['probes.test']);
  const offsets = initialOffsets(n, cfg.intervalMs);
  const index = new Map(spec.mirrors.map((m, i) => [m.name, i] as const));
  const seen = new Float64Array(n);
  const failedOnce = new Uint8Array(n);
  const lastK = new Float64Array(n).fill(NaN);
  let start = Infinity;
  let recording = false;
  let windowStart = 0;
  let results: { at: number; i: number; ok: boolean; reason: string }[] = [];

  const controller = new Controller({ spec, store: new FileStateStore(stateDir), drivers: [driver], query: async () => ({ ok: true, values: [] }) });
  controller.on('probe', (r: ProbeResult) => {
    const i = index.get(r.mirror)!;
    if (!r.ok) failedOnce[i] = 1;
    if (!failedOnce[i]) start = Math.min(start, r.at - offsets[i] - seen[i] * cfg.intervalMs);
    seen[i]++;
    if (recording) results.push({ at: r.at, i, ok: r.ok, reason: r.ok ? 'ok' : r.reason });
  });
  await controller.start();

  return {
    ready: {},
    handlers: {
      /** process.memoryUsage() in MiB and V8's heap spaces (what the RSS is made of). */
      memory: async () => {
        const mib = (v: number) => Math.round((10 * v) / 2 ** 20) / 10;
        const u = process.memoryUsage();
        return {
          usage: Object.fromEntries(Object.entries(u).map(([k, v]) => [k, mib(v)])),
          spaces: Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, mib(sp.space_size)])),
        };
      },
      upCount: async () => Object.values(controller.health).filter((h) => h.state === 'up').length,
      mark: async () => {
        results = [];
        recording = true;
        windowStart = Date.now();
        return true;
      },
      collect: async () => {
        recording = false;
        const windowMs = Date.now() - windowStart;
        const drifts: number[] = [];
        let missed = 0;
        let ok = 0;
        const failures: Record<string, number> = {};
        lastK.fill(NaN);
        for (const r of results) {
          const rel = r.at - start - offsets[r.i];
          // a probe never runs before its slot (timers do not fire early; 5 ms allows for the start estimate)
          const kk = Math.floor((rel + 5) / cfg.intervalMs);
          drifts.push(Math.max(0, rel - kk * cfg.intervalMs));
          if (!Number.isNaN(lastK[r.i]) && kk - lastK[r.i] > 1) missed += kk - lastK[r.i] - 1;
          lastK[r.i] = kk;
          if (r.ok) ok++;
          else failures[r.reason] = (failures[r.reason] ?? 0) + 1;
        }
        drifts.sort((a, b) => a - b);
        const q = (p: number) => (drifts.length ? drifts[Math.min(drifts.length - 1, Math.ceil(p * drifts.length) - 1)] : NaN);
        const report: WindowReport = {
          probes: results.length, ok, driftP50: q(0.5), driftP99: q(0.99), driftMax: drifts[drifts.length - 1] ?? NaN,
          missedSlots: missed, windowMs, expectedProbes: Math.round((n * windowMs) / cfg.intervalMs), failures,
        };
        return report;
      },
    },
    shutdown: async () => {
      await controller.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
});
