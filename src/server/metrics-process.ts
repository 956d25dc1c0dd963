/**
 * The process_* and nodejs_* metrics prom-client's collectDefaultMetrics made (same names, help, types and labels;
 * Linux: memory from /proc/self/status, file descriptors from /proc/self), without loading prom-client (issue #14).
 * Three deliberate differences: `process_cpu_*_seconds_total` count from the process's start (prom-client counted from
 * when its metrics were made), `nodejs_eventloop_lag_seconds` is measured during the scrape (prom-client showed the
 * previous scrape's), and `nodejs_gc_duration_seconds` observes every GC (prom-client only the first of each batch
 * the observer was given).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { MetricRegistry } from '../domain/metric-registry.ts';

/** `VmRSS`, `VmSize`, `VmData` of a /proc/<pid>/status text, in bytes (absent fields left out). Pure. */
export function procStatusBytes(status: string): { VmRSS?: number; VmSize?: number; VmData?: number } {
  const out: Record<string, number> = {};
  for (const m of status.matchAll(/^(VmRSS|VmSize|VmData):\s+(\d+) kB$/gm)) out[m[1]] = Number(m[2]) * 1024;
  return out;
}

/** "Max open files" soft limit of a /proc/<pid>/limits text, or undefined. Pure. */
export function maxOpenFiles(limits: string): number | undefined {
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
  const n = line === undefined ? NaN : Number(line.split(/ {2,}/)[1]);
  return Number.isFinite(n) ? n : undefined;
}

/** How many of each, by name. Pure. */
function countBy(names: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of names) m.set(n, (m.get(n) ?? 0) + 1);
  return m;
}

const readOr = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** libuv handles and requests (undocumented, but what prom-client reads: no public API has their C++ class names). */
const internals = process as unknown as { _getActiveHandles(): object[]; _getActiveRequests(): object[] };
const classNames = (xs: object[]) => xs.filter((x) => x?.constructor !== undefined).map((x) => x.constructor.name);

/**
 * Adds the process and Node.js metrics to `registry`. The event-loop delay monitor and the GC observer run until
 * `close()`.
 */
export function addProcessMetrics(registry: MetricRegistry): { close(): void } {
  const cpuUser = registry.counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    collect() {
      const u = process.cpuUsage();
      for (const [c, micros] of [[cpuUser, u.user], [cpuSystem, u.system], [cpuTotal, u.user + u.system]] as const) {
        c.reset();
        c.inc(micros / 1e6);
      }
    },
  });
  const cpuSystem = registry.counter({ name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.' });
  const cpuTotal = registry.counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.' });

  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  registry.gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since unix epoch in seconds.',
    collect() {
      this.set(startSeconds);
    },
  });

  const rss = registry.gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    collect() {
      const s = readOr(() => procStatusBytes(readFileSync('/proc/self/status', 'utf8')));
      if (s?.VmRSS !== undefined) rss.set(s.VmRSS);
      else rss.set(process.memoryUsage.rss());
      if (s?.VmSize !== undefined) virtual.set(s.VmSize);
      if (s?.VmData !== undefined) heap.set(s.VmData);
    },
  });
  const virtual = registry.gauge({ name: 'process_virtual_memory_bytes', help: 'Virtual memory size in bytes.' });
  const heap = registry.gauge({ name: 'process_heap_bytes', help: 'Process heap size in bytes.' });

  registry.gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors.',
    collect() {
      // minus the descriptor readdirSync itself had open
      const n = readOr(() => readdirSync('/proc/self/fd').length - 1);
      if (n !== undefined) this.set(n);
    },
  });
  const maxFds = readOr(() => maxOpenFiles(readFileSync('/proc/self/limits', 'utf8')));
  if (maxFds !== undefined) {
    registry.gauge({
      name: 'process_max_fds',
      help: 'Maximum number of open file descriptors.',
      collect() {
        this.set(maxFds);
      },
    });
  }

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  registry.gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    async collect() {
      const t0 = process.hrtime.bigint();
      await new Promise((r) => setImmediate(r));
      this.set(Number(process.hrtime.bigint() - t0) / 1e9);
      lag.min.set(delay.min / 1e9);
      lag.max.set(delay.max / 1e9);
      lag.mean.set(delay.mean / 1e9);
      lag.stddev.set(delay.stddev / 1e9);
      lag.p50.set(delay.percentile(50) / 1e9);
      lag.p90.set(delay.percentile(90) / 1e9);
      lag.p99.set(delay.percentile(99) / 1e9);
      delay.reset();
    },
  });
  const lag = {
    min: registry.gauge({ name: 'nodejs_eventloop_lag_min_seconds', help: 'The minimum recorded event loop delay.' }),
    max: registry.gauge({ name: 'nodejs_eventloop_lag_max_seconds', help: 'The maximum recorded event loop delay.' }),
    mean: registry.gauge({ name: 'nodejs_eventloop_lag_mean_seconds', help: 'The mean of the recorded event loop delays.' }),
    stddev: registry.gauge({ name: 'nodejs_eventloop_lag_stddev_seconds', help: 'The standard deviation of the recorded event loop delays.' }),
    p50: registry.gauge({ name: 'nodejs_eventloop_lag_p50_seconds', help: 'The 50th percentile of the recorded event loop delays.' }),
    p90: registry.gauge({ name: 'nodejs_eventloop_lag_p90_seconds', help: 'The 90th percentile of the recorded event loop delays.' }),
    p99: registry.gauge({ name: 'nodejs_eventloop_lag_p99_seconds', help: 'The 99th percentile of the recorded event loop delays.' }),
  };

  const byType = (names: () => string[]) =>
    function (this: { reset(): void; set(l: { type: string }, v: number): void }) {
      this.reset();
      for (const [type, n] of countBy(names())) this.set({ type }, n);
    };
  registry.gauge({
    name: 'nodejs_active_resources',
    help: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    labelNames: ['type'] as const,
    collect: byType(() => process.getActiveResourcesInfo()),
  });
  registry.gauge({
    name: 'nodejs_active_resources_total',
    help: 'Total number of active resources.',
    collect() {
      this.set(process.getActiveResourcesInfo().length);
    },
  });
  registry.gauge({
    name: 'nodejs_active_handles',
    help: 'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
    labelNames: ['type'] as const,
    collect: byType(() => classNames(internals._getActiveHandles())),
  });
  registry.gauge({
    name: 'nodejs_active_handles_total',
    help: 'Total number of active handles.',
    collect() {
      this.set(internals._getActiveHandles().length);
    },
  });
  registry.gauge({
    name: 'nodejs_active_requests',
    help: 'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
    labelNames: ['type'] as const,
    collect: byType(() => classNames(internals._getActiveRequests())),
  });
  registry.gauge({
    name: 'nodejs_active_requests_total',
    help: 'Total number of active requests.',
    collect() {
      this.set(internals._getActiveRequests().length);
    },
  });

  const heapTotal = registry.gauge({
    name: 'nodejs_heap_size_total_bytes',
    help: 'Process heap size from Node.js in bytes.',
    collect() {
      const m = process.memoryUsage();
      heapTotal.set(m.heapTotal);
      heapUsed.set(m.heapUsed);
      external.set(m.external);
    },
  });
  const heapUsed = registry.gauge({ name: 'nodejs_heap_size_used_bytes', help: 'Process heap size used from Node.js in bytes.' });
  const external = registry.gauge({ name: 'nodejs_external_memory_bytes', help: 'Node.js external memory size in bytes.' });

  const space = (kind: string) => ({ name: `nodejs_heap_space_size_${kind}_bytes`, help: `Process heap space size ${kind} from Node.js in bytes.`, labelNames: ['space'] as const });
  const spaceTotal = registry.gauge({
    ...space('total'),
    collect() {
      for (const s of getHeapSpaceStatistics()) {
        const name = s.space_name.slice(0, s.space_name.indexOf('_space'));
        spaceTotal.set({ space: name }, s.space_size);
        spaceUsed.set({ space: name }, s.space_used_size);
        spaceAvailable.set({ space: name }, s.space_available_size);
      }
    },
  });
  const spaceUsed = registry.gauge(space('used'));
  const spaceAvailable = registry.gauge(space('available'));

  const [major, minor, patch] = process.version.slice(1).split('.').map(Number);
  registry.gauge({
    name: 'nodejs_version_info',
    help: 'Node.js version info.',
    labelNames: ['version', 'major', 'minor', 'patch'] as const,
    collect() {
      this.set({ version: process.version, major, minor, patch }, 1);
    },
  });

  const gc = registry.histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
  });
  const observer = new PerformanceObserver((list) => {
    // every entry of the batch (prom-client observed only the first)
    for (const e of list.getEntries() as unknown as { detail?: { kind?: number }; duration: number }[]) gc.observe({ kind: GC_KINDS[e.detail?.kind ?? -1] }, e.duration / 1000);
  });
  observer.observe({ entryTypes: ['gc'] });

  return {
    close() {
      delay.disable();
      observer.disconnect();
    },
  };
}
