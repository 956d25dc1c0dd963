import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import * as prom from 'prom-client';
import { addProcessMetrics, maxOpenFiles, procStatusBytes } from '../../src/server/metrics-process.ts';
import { createMetricRegistry } from '../../src/server/metrics-registry.ts';
import { parsePromText, valueOf, type Family } from './prom-text.ts';

/** name → type, help and the label names its samples carry (a histogram's `le` left out). */
function shape(families: Map<string, Family>) {
  return Object.fromEntries([...families.values()].map((f) => [f.name, { type: f.type, help: f.help, labels: [...new Set(f.samples.flatMap((s) => Object.keys(s.labels)))].filter((l) => l !== 'le').sort() }]));
}

describe('process_* and nodejs_* metrics without prom-client', () => {
  it('are the families prom-client\'s collectDefaultMetrics makes: same names, types, help and labels', async () => {
    const theirs = new prom.Registry();
    prom.collectDefaultMetrics({ register: theirs });
    const mine = createMetricRegistry();
    const m = addProcessMetrics(mine);
    try {
      // one GC of each process, so the GC histogram has its `kind` label in both
      setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
      await new Promise((r) => setTimeout(r, 50));
      const a = shape(parsePromText(await mine.metrics()));
      const b = shape(parsePromText(await theirs.metrics()));
      assert.deepEqual(Object.keys(a), Object.keys(b), 'same families in the same order');
      assert.deepEqual(a, b);
    } finally {
      m.close();
      // prom-client's event-loop monitor and GC observer cannot be stopped; they end with this test process
    }
  });

  it('report this process: resident memory, CPU since start, descriptors, heap, version, GC durations', async () => {
    const r = createMetricRegistry();
    const m = addProcessMetrics(r);
    try {
      setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
      const deadline = Date.now() + 5000;
      let f = parsePromText(await r.metrics());
      while ((valueOf(f, 'nodejs_gc_duration_seconds_count', { kind: 'major' }) ?? 0) < 1) {
        assert.ok(Date.now() < deadline, 'a forced GC is observed');
        await new Promise((res) => setTimeout(res, 20));
        f = parsePromText(await r.metrics());
      }
      const rss = valueOf(f, 'process_resident_memory_bytes')!;
      assert.ok(Math.abs(rss - process.memoryUsage.rss()) < 64 * 2 ** 20, `RSS ${rss} near node's own figure`);
      const cpu = process.cpuUsage();
      assert.ok(valueOf(f, 'process_cpu_seconds_total')! <= (cpu.user + cpu.system) / 1e6 + 1e-6);
      assert.ok(valueOf(f, 'process_cpu_seconds_total')! >= 0.05, 'counted from the process start (loading the test took CPU)');
      assert.ok(Math.abs(valueOf(f, 'process_cpu_seconds_total')! - valueOf(f, 'process_cpu_user_seconds_total')! - valueOf(f, 'process_cpu_system_seconds_total')!) < 1e-6);
      assert.ok(valueOf(f, 'process_open_fds')! >= 3);
      assert.ok(valueOf(f, 'process_max_fds')! >= valueOf(f, 'process_open_fds')!);
      assert.ok(Math.abs(valueOf(f, 'process_start_time_seconds')! - (Date.now() / 1000 - process.uptime())) <= 1);
      assert.ok(valueOf(f, 'nodejs_heap_size_used_bytes')! > 1e6);
      assert.ok(valueOf(f, 'nodejs_heap_space_size_used_bytes', { space: 'old' })! > 0);
      assert.ok(valueOf(f, 'nodejs_eventloop_lag_seconds')! > 0, 'measured during the scrape');
      assert.equal(valueOf(f, 'nodejs_version_info', { version: process.version }), 1);
      assert.ok(valueOf(f, 'nodejs_active_handles_total')! >= 0);
    } finally {
      m.close();
    }
  });

  it('read /proc texts', () => {
    assert.deepEqual(procStatusBytes('Name:\tnode\nVmSize:\t  1000 kB\nVmData:\t 10 kB\nVmRSS:\t   512 kB\nRssAnon:\t 1 kB\n'), { VmSize: 1024000, VmData: 10240, VmRSS: 524288 });
    assert.deepEqual(procStatusBytes('Name:\tkthread\n'), {});
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1048576              1048576              files     \n';
    assert.equal(maxOpenFiles(limits), 1048576);
    assert.equal(maxOpenFiles('Limit\n'), undefined);
  });
});
