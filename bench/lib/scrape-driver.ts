/**
 * Child-process entry: drives the blackbox exporter the way Prometheus would, one scrape of
 * /probe?module=http_2xx&target=http://IP:PORT/ per target per interval, on the same slot grid flotilla uses
 * (initialOffsets + nextDue, jitter 0), over a keep-alive undici Pool. Its own CPU is NOT the exporter's: the bench
 * measures the exporter's pid only. Reports scrapes done, probe_success, scrape latency and its own lateness.
 */
import { Pool } from 'undici';
import { initialOffsets, nextDue } from '../../src/probes/probe-schedule.ts';
import { childMain } from './procs.ts';

export interface ScrapeDriverConfig {
  exporterUrl: string;
  endpoints: { ip: string; port: number }[];
  intervalMs: number;
  timeoutMs: number;
}

export interface ScrapeWindowReport {
  probes: number;
  ok: number;
  latencyP50: number;
  latencyP99: number;
  driftP50: number;
  driftP99: number;
  windowMs: number;
  expectedProbes: number;
  errors: Record<string, number>;
}

await childMain<ScrapeDriverConfig>(async (cfg) => {
  const pool = new Pool(cfg.exporterUrl, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
  const n = cfg.endpoints.length;
  const offsets = initialOffsets(n, cfg.intervalMs);
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let recording = false;
  let windowStart = 0;
  let rec: { ok: boolean; latency: number; drift: number; error?: string }[] = [];
  const start = Date.now();
  cfg.endpoints.forEach((e, i) => {
    const path = `/probe?module=http_2xx&target=${encodeURIComponent(`http://${e.ip}:${e.port}/`)}`;
    let due = start + offsets[i];
    const tick = async () => {
      if (stopped) return;
      const firedAt = Date.now();
      const drift = firedAt - due;
      const next = nextDue({ lastDue: due, intervalMs: cfg.intervalMs, jitter: 0, random: Math.random, now: firedAt });
      due = next.due;
      const t = setTimeout(() => { timers.delete(t); void tick(); }, Math.max(0, next.at - Date.now()));
      timers.add(t);
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path, headersTimeout: cfg.timeoutMs + 1000, bodyTimeout: cfg.timeoutMs + 1000 });
        const text = await res.body.text();
        const ok = res.statusCode === 200 && /^probe_success 1$/m.test(text);
        if (recording) rec.push({ ok, latency: performance.now() - t0, drift, error: ok ? undefined : `status ${res.statusCode}, ${/^probe_success (\S+)$/m.exec(text)?.[0] ?? 'no probe_success'}` });
      } catch (err) {
        if (recording) rec.push({ ok: false, latency: performance.now() - t0, drift, error: (err as { code?: string }).code ?? (err as Error).message });
      }
    };
    const t = setTimeout(() => { timers.delete(t); void tick(); }, Math.max(0, due - Date.now()));
    timers.add(t);
  });
  const q = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] : NaN);
  return {
    ready: {},
    handlers: {
      mark: async () => {
        rec = [];
        recording = true;
        windowStart = Date.now();
        return true;
      },
      collect: async () => {
        recording = false;
        const windowMs = Date.now() - windowStart;
        const lat = rec.map((r) => r.latency).sort((a, b) => a - b);
        const drift = rec.map((r) => r.drift).sort((a, b) => a - b);
        const errors: Record<string, number> = {};
        for (const r of rec) if (r.error) errors[r.error] = (errors[r.error] ?? 0) + 1;
        const report: ScrapeWindowReport = {
          probes: rec.length, ok: rec.filter((r) => r.ok).length,
          latencyP50: q(lat, 0.5), latencyP99: q(lat, 0.99), driftP50: q(drift, 0.5), driftP99: q(drift, 0.99),
          windowMs, expectedProbes: Math.round((n * windowMs) / cfg.intervalMs), errors,
        };
        return report;
      },
    },
    shutdown: async () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await pool.destroy();
    },
  };
});
