import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import * as prom from 'prom-client';
import type { MetricRegistry } from '../../src/domain/metric-registry.ts';
import { createMetricRegistry, formatValue, PROMETHEUS_CONTENT_TYPE } from '../../src/server/metrics-registry.ts';
import { parsePromText, valueOf } from './prom-text.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The same metrics, events and scrape-time values, made through flotilla's registry or through prom-client. */
interface Maker {
  counter(name: string, help: string, labelNames?: string[], collect?: (c: { reset(): void; inc(l: Record<string, string | number>, v?: number): void }) => void): { inc(...a: unknown[]): void };
  gauge(name: string, help: string, labelNames?: string[], collect?: (g: { reset(): void; set(...a: unknown[]): void }) => void): { set(...a: unknown[]): void };
  histogram(name: string, help: string, labelNames: string[] | undefined, buckets: number[]): { observe(...a: unknown[]): void };
  text(): Promise<string>;
}

function ours(): Maker {
  const r: MetricRegistry = createMetricRegistry();
  return {
    counter: (name, help, labelNames, collect) => r.counter<string>({ name, help, labelNames, collect: collect && function () { collect(this as never); } }) as never,
    gauge: (name, help, labelNames, collect) => r.gauge<string>({ name, help, labelNames, collect: collect && function () { collect(this as never); } }) as never,
    histogram: (name, help, labelNames, buckets) => r.histogram<string>({ name, help, labelNames, buckets }) as never,
    text: () => r.metrics(),
  };
}

function promClient(): Maker {
  const r = new prom.Registry();
  return {
    counter: (name, help, labelNames, collect) => new prom.Counter({ name, help, labelNames: labelNames ?? [], registers: [r], collect: collect && function (this: prom.Counter) { collect(this as never); } }) as never,
    gauge: (name, help, labelNames, collect) => new prom.Gauge({ name, help, labelNames: labelNames ?? [], registers: [r], collect: collect && function (this: prom.Gauge) { collect(this as never); } }) as never,
    histogram: (name, help, labelNames, buckets) => new prom.Histogram({ name, help, labelNames: labelNames ?? [], buckets, registers: [r] }) as never,
    text: () => r.metrics(),
  };
}

/** Every kind of metric flotilla makes, with awkward names and values: the text both write must be the same. */
async function exercise(m: Maker): Promise<string> {
  const plain = m.counter('t_plain_total', 'A counter without labels.');
  plain.inc();
  plain.inc(2.5);
  const byMirror = m.counter('t_probes_total', 'Per mirror and result.', ['mirror', 'result']);
  byMirror.inc({ mirror: 'm1', result: 'ok' }, 0);
  byMirror.inc({ mirror: 'm1', result: 'ok' });
  byMirror.inc({ mirror: 'a "quoted"\\ back\nslash', result: 'fail' }, 3);
  m.counter('t_never_total', 'Labelled, never counted: HELP and TYPE only.', ['x']);
  m.counter('t_collected_total', 'Set at scrape time.', ['port'], (c) => {
    c.reset();
    c.inc({ port: 53 }, 7);
  });
  m.gauge('t_unset', 'A gauge never set: 0.');
  const g = m.gauge('t_gauge', 'Help with a backslash \\ and a\nnewline.', ['vantage']);
  g.set({ vantage: 'v1' }, -1);
  g.set({ vantage: 'v2' }, 1e-7);
  g.set({ vantage: 'v3' }, 1733150000.123);
  g.set({ vantage: 'v4' }, Infinity);
  m.gauge('t_collect', 'Collected.', undefined, (x) => x.set(42));
  const h = m.histogram('t_latency_seconds', 'A labelled histogram.', ['mirror'], [0.001, 0.01, 0.1, 1]);
  for (const v of [0.0005, 0.001, 0.05, 0.7, 3]) h.observe({ mirror: 'm1' }, v);
  h.observe({ mirror: 'm2' }, 0.02);
  m.histogram('t_empty_seconds', 'Labelled, nothing observed.', ['mirror'], [1]);
  const h2 = m.histogram('t_convergence_seconds', 'Without labels.', undefined, [0.5, 2.5, 10]);
  h2.observe(0.25);
  h2.observe(11);
  m.histogram('t_zero_seconds', 'Without labels, nothing observed.', undefined, [1, 2]);
  return m.text();
}

describe('flotilla\'s metrics registry (instead of prom-client)', () => {
  it('writes the text prom-client writes for the same metrics and events, and it parses strictly', async () => {
    const mine = await exercise(ours());
    assert.equal(mine, await exercise(promClient()));
    const f = parsePromText(mine);
    assert.equal(valueOf(f, 't_probes_total', { mirror: 'a "quoted"\\ back\nslash', result: 'fail' }), 3);
    assert.equal(valueOf(f, 't_latency_seconds_bucket', { mirror: 'm1', le: '0.1' }), 3);
    assert.equal(f.get('t_gauge')?.help, 'Help with a backslash \\ and a\nnewline.');
  });

  it('refuses what prom-client refuses: an unknown label, a negative or non-finite count, a name twice, a bad name', () => {
    const r = createMetricRegistry();
    const c = r.counter({ name: 'x_total', help: 'x', labelNames: ['a'] as const });
    assert.throws(() => c.inc({ b: '1' } as never), /label "b"/);
    assert.throws(() => c.inc({ a: '1' }, -1), RangeError);
    assert.throws(() => c.inc({ a: '1' }, NaN), TypeError);
    assert.throws(() => r.gauge({ name: 'x_total', help: 'again' }), /already been registered/);
    assert.throws(() => r.gauge({ name: 'bad-name', help: 'x' }), TypeError);
    assert.throws(() => r.histogram({ name: 'h', help: 'x', labelNames: ['le'] as const }), /le is reserved/);
    assert.throws(() => r.histogram({ name: 'h2', help: 'x', buckets: [1, 1] }), /increase/);
  });

  it('formats values as Prometheus reads them', () => {
    assert.deepEqual([NaN, Infinity, -Infinity, 0, -2, 0.1, 1e21].map(formatValue), ['NaN', '+Inf', '-Inf', '0', '-2', '0.1', '1e+21']);
    assert.equal(PROMETHEUS_CONTENT_TYPE, prom.Registry.PROMETHEUS_CONTENT_TYPE);
  });

  it('waits for an async collect before writing', async () => {
    const r = createMetricRegistry();
    r.gauge({
      name: 'slow',
      help: 'set after a tick',
      async collect() {
        await new Promise((resolve) => setImmediate(resolve));
        this.set(5);
      },
    });
    assert.match(await r.metrics(), /^slow 5$/m);
  });

  it('the HTTP server and its /metrics never load prom-client (~10 MiB of an idle daemon\'s RSS, @opentelemetry/api with it)', () => {
    const code = `const { createMetrics } = await import('./src/server/metrics.ts');
      await import('./src/server/http-server.ts');
      const { EventEmitter } = await import('node:events');
      const c = Object.assign(new EventEmitter(), { spec: { mirrors: [], dnsProviders: [] }, health: {}, providerStatus: {}, cutOff: false,
        desired: () => ({ serving: [], failOpen: false }), vantageViews: () => [], leader: () => undefined, decision: () => ({ failStatic: false }) });
      const m = createMetrics(c);
      await m.registry.metrics();
      m.close();
      const { createRequire } = await import('node:module');
      console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules\\/(prom-client|@opentelemetry)\\//.test(k))));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), []);
  });
});
