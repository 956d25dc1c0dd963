/**
 * Child-process entry: one node process serving the sample site's index.html on many (address, port) listeners,
 * each with its own misbehaviour, for the false-flip benchmark:
 * - ok: answer at once
 * - drop-every-10th: close the socket without answering on every 10th request to THAT listener
 * - drop-random-10pct: close the socket without answering with probability 0.1, independently per request
 * - jitter: delay each answer by a random time drawn from an exponential distribution (mean `jitterMeanMs`,
 *   capped at `jitterCapMs`)
 * Counts requests, drops and delays over a threshold per listener (the `stats` request).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { childMain } from './procs.ts';

export type BenchMirrorMode = 'ok' | 'drop-every-10th' | 'drop-random-10pct' | 'jitter';

export interface BenchMirrorConfig {
  contentDir: string;
  listeners: { ip: string; port: number; mode: BenchMirrorMode }[];
  jitterMeanMs: number;
  jitterCapMs: number;
  /** Delays above each of these are counted (to report how many answers a prober with that timeout saw as late). */
  slowThresholdsMs: number[];
}

export interface ListenerStats {
  ip: string;
  port: number;
  mode: BenchMirrorMode;
  requests: number;
  dropped: number;
  slowerThan: Record<string, number>;
}

await childMain<BenchMirrorConfig>(async (cfg) => {
  const body = readFileSync(join(cfg.contentDir, 'index.html'));
  const servers: Server[] = [];
  const stats: ListenerStats[] = [];
  const timers = new Set<NodeJS.Timeout>();
  for (const l of cfg.listeners) {
    const st: ListenerStats = { ...l, requests: 0, dropped: 0, slowerThan: Object.fromEntries(cfg.slowThresholdsMs.map((t) => [String(t), 0])) };
    stats.push(st);
    const answer = (res: import('node:http').ServerResponse) => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store' });
      res.end(body);
    };
    const server = createServer((req, res) => {
      st.requests++;
      if ((l.mode === 'drop-every-10th' && st.requests % 10 === 0) || (l.mode === 'drop-random-10pct' && Math.random() < 0.1)) {
        st.dropped++;
        req.socket.destroy();
        return;
      }
      if (l.mode === 'jitter') {
        const delay = Math.min(cfg.jitterCapMs, -Math.log(1 - Math.random()) * cfg.jitterMeanMs);
        for (const t of cfg.slowThresholdsMs) if (delay > t) st.slowerThan[String(t)]++;
        const timer = setTimeout(() => { timers.delete(timer); answer(res); }, delay);
        timers.add(timer);
        return;
      }
      answer(res);
    });
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen({ host: l.ip, port: l.port }, () => { server.off('error', fail); ok(); });
    });
    servers.push(server);
  }
  return {
    ready: {},
    handlers: {
      stats: async () => stats,
      reset: async () => {
        for (const s of stats) {
          s.requests = 0;
          s.dropped = 0;
          for (const k of Object.keys(s.slowerThan)) s.slowerThan[k] = 0;
        }
        return true;
      },
    },
    shutdown: async () => {
      for (const t of timers) clearTimeout(t);
      await Promise.all(servers.map((s) => new Promise<void>((ok) => { s.close(() => ok()); s.closeAllConnections(); })));
    },
  };
});
