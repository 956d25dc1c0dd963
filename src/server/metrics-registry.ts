/**
 * The daemon's Prometheus registry (src/domain/metric-registry.ts) and its text exposition (format 0.0.4), written
 * here instead of loading prom-client: that package (with the @opentelemetry/api it requires) added ~10 MiB to an idle
 * daemon's RSS (issue #14). The text is the one prom-client 15 writes for the same metrics (test/server/
 * metrics-registry.test.ts compares them): `# HELP` and `# TYPE` per metric, one line per series with its labels in
 * `labelNames` order (a histogram's `le` first), metrics separated by a blank line, a final newline.
 */
import type { Counter, Gauge, Histogram, HistogramOptions, LabelValues, MetricOptions, MetricRegistry } from '../domain/metric-registry.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** prom-client's default histogram buckets. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** HELP text and label values: backslash and newline escaped (label values also escape `"`). Pure. */
export const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string => escapeHelp(s).replace(/"/g, '\\"');

/** A sample value as Prometheus reads it (Go's ParseFloat): NaN, +Inf, -Inf or the JavaScript number. Pure. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

/** `{a="x",b="y"}` from name/value pairs, or '' when there are none. Pure. */
function labelText(pairs: readonly (readonly [string, string | number])[]): string {
  return pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${typeof v === 'string' ? escapeLabel(v) : v}"`).join(',')}}`;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  collect(): Promise<void>;
  /** The series lines, without the HELP and TYPE lines. */
  lines(): string[];
}

/** The series of one metric, keyed by its label values; each keeps its labels as pairs in `labelNames` order. */
class Series<V> {
  readonly map = new Map<string, { pairs: [string, string | number][]; v: V }>();
  constructor(private readonly metric: string, private readonly labelNames: readonly string[]) {}

  /** The entry of `labels`, made with `fresh()` when new. Throws on a label name the metric does not have. */
  get(labels: Record<string, string | number | undefined>, fresh: () => V): { pairs: [string, string | number][]; v: V } {
    for (const k of Object.keys(labels)) {
      if (!this.labelNames.includes(k)) throw new TypeError(`metric ${this.metric}: label "${k}" is not one of its labels (${this.labelNames.join(', ') || 'none'})`);
    }
    const pairs = this.labelNames.filter((n) => labels[n] !== undefined).map((n) => [n, labels[n]!] as [string, string | number]);
    const key = JSON.stringify(pairs.map(([k, v]) => [k, String(v)]));
    let e = this.map.get(key);
    if (!e) this.map.set(key, (e = { pairs, v: fresh() }));
    return e;
  }
}

/** (labels, value) or (value) arguments, as prom-client takes them. */
function args(a: unknown, b: number | undefined): [Record<string, string | number | undefined>, number | undefined] {
  return typeof a === 'object' && a !== null ? [a as Record<string, string | number | undefined>, b] : [{}, a as number | undefined];
}

function checkFinite(metric: string, v: number): void {
  if (!Number.isFinite(v)) throw new TypeError(`metric ${metric}: value is not a finite number: ${v}`);
}

function checkNames(name: string, labelNames: readonly string[]): void {
  if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name: ${JSON.stringify(name)}`);
  for (const l of labelNames) if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new TypeError(`metric ${name}: invalid label name ${JSON.stringify(l)}`);
}

/** What a counter and a gauge share: one number per label set, written as `name{labels} value`. */
abstract class NumberFamily<L extends string, M> implements Family {
  abstract readonly type: 'counter' | 'gauge';
  readonly name: string;
  readonly help: string;
  protected readonly series: Series<number>;
  private readonly labelNames: readonly string[];
  private readonly onCollect?: (this: M) => void | Promise<void>;
  constructor(o: MetricOptions<L, M>) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames ?? [];
    checkNames(o.name, this.labelNames);
    this.series = new Series(o.name, this.labelNames);
    this.onCollect = o.collect;
    this.reset();
  }
  reset(): void {
    this.series.map.clear();
    if (this.labelNames.length === 0) this.series.get({}, () => 0);
  }
  async collect(): Promise<void> {
    await this.onCollect?.call(this as unknown as M);
  }
  lines(): string[] {
    return [...this.series.map.values()].map((e) => `${this.name}${labelText(e.pairs)} ${formatValue(e.v)}`);
  }
}

class CounterImpl<L extends string> extends NumberFamily<L, Counter<L>> implements Counter<L> {
  readonly type = 'counter';
  inc(a?: LabelValues<L> | number, b?: number): void {
    const [labels, value = 1] = args(a, b);
    checkFinite(this.name, value);
    if (value < 0) throw new RangeError(`metric ${this.name}: a counter cannot decrease (inc by ${value})`);
    this.series.get(labels, () => 0).v += value;
  }
}

class GaugeImpl<L extends string> extends NumberFamily<L, Gauge<L>> implements Gauge<L> {
  readonly type = 'gauge';
  set(a: LabelValues<L> | number, b?: number): void {
    const [labels, value] = args(a, b);
    if (typeof value !== 'number') throw new TypeError(`metric ${this.name}: set needs a number`);
    this.series.get(labels, () => 0).v = value;
  }
}

interface HistogramValue { buckets: number[]; sum: number; count: number }

class HistogramImpl<L extends string> implements Histogram<L>, Family {
  readonly type = 'histogram';
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly series: Series<HistogramValue>;
  private readonly onCollect?: (this: Histogram<L>) => void | Promise<void>;
  constructor(o: HistogramOptions<L>) {
    this.name = o.name;
    this.help = o.help;
    const labelNames = o.labelNames ?? [];
    checkNames(o.name, labelNames);
    if (labelNames.includes('le' as L)) throw new TypeError(`metric ${o.name}: le is reserved for the buckets`);
    this.bounds = [...(o.buckets ?? DEFAULT_BUCKETS)];
    if (this.bounds.some((b, i) => i > 0 && b <= this.bounds[i - 1])) throw new TypeError(`metric ${o.name}: buckets must increase`);
    this.series = new Series(o.name, labelNames);
    this.onCollect = o.collect;
    // like prom-client: a histogram without labels shows its zero series from the start (and not after reset())
    if (labelNames.length === 0) this.series.get({}, () => this.fresh());
  }
  private fresh(): HistogramValue {
    return { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
  }
  observe(a: LabelValues<L> | number, b?: number): void {
    const [labels, value] = args(a, b);
    if (typeof value !== 'number') throw new TypeError(`metric ${this.name}: observe needs a number`);
    checkFinite(this.name, value);
    const h = this.series.get(labels, () => this.fresh()).v;
    const i = this.bounds.findIndex((u) => value <= u);
    if (i >= 0) h.buckets[i]++;
    h.sum += value;
    h.count++;
  }
  reset(): void {
    this.series.map.clear();
  }
  async collect(): Promise<void> {
    await this.onCollect?.call(this);
  }
  lines(): string[] {
    const out: string[] = [];
    for (const { pairs, v } of this.series.map.values()) {
      let acc = 0;
      this.bounds.forEach((u, i) => {
        acc += v.buckets[i];
        out.push(`${this.name}_bucket${labelText([['le', u], ...pairs])} ${acc}`);
      });
      out.push(`${this.name}_bucket${labelText([['le', '+Inf'], ...pairs])} ${v.count}`);
      out.push(`${this.name}_sum${labelText(pairs)} ${formatValue(v.sum)}`);
      out.push(`${this.name}_count${labelText(pairs)} ${v.count}`);
    }
    return out;
  }
}

/** A registry of its own (two servers in one process never share metrics). */
export function createMetricRegistry(): MetricRegistry {
  const families: Family[] = [];
  const add = <F extends Family>(f: F): F => {
    if (families.some((x) => x.name === f.name)) throw new Error(`A metric with the name ${f.name} has already been registered.`);
    families.push(f);
    return f;
  };
  return {
    contentType: PROMETHEUS_CONTENT_TYPE,
    counter: (o) => add(new CounterImpl(o)),
    gauge: (o) => add(new GaugeImpl(o)),
    histogram: (o) => add(new HistogramImpl(o)),
    async metrics() {
      await Promise.all(families.map((f) => f.collect()));
      return `${families.map((f) => [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...f.lines()].join('\n')).join('\n\n')}\n`;
    },
  };
}
