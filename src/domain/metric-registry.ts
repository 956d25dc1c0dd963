/**
 * What the parts of flotilla that count things (the controller's alerts, certificates, the HTTP server) see of the
 * daemon's /metrics registry: Prometheus counters, gauges and histograms made by the registry itself, so no part
 * needs the implementation (src/server/metrics-registry.ts). Types only.
 *
 * A metric's `collect` runs at every scrape, just before its series are written, with the metric as `this`: gauges
 * that read the current state set themselves there.
 */

/** One series' label values, by label name (names outside the metric's `labelNames` are refused). */
export type LabelValues<L extends string> = Partial<Record<L, string | number>>;

export interface MetricOptions<L extends string, M> {
  /** Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*); a counter's ends in `_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
  collect?: (this: M) => void | Promise<void>;
}

export interface HistogramOptions<L extends string> extends MetricOptions<L, Histogram<L>> {
  /** Upper bounds, increasing (`+Inf` is implied). */
  buckets?: readonly number[];
}

export interface Counter<L extends string = never> {
  /** Adds `value` (default 1, never negative) to the series; 0 creates the series at 0. */
  inc(labels: LabelValues<L>, value?: number): void;
  inc(value?: number): void;
  /** Forgets every series (a counter without labels is back at 0). */
  reset(): void;
}

export interface Gauge<L extends string = never> {
  set(labels: LabelValues<L>, value: number): void;
  set(value: number): void;
  /** Forgets every series (a gauge without labels is back at 0). */
  reset(): void;
}

export interface Histogram<L extends string = never> {
  observe(labels: LabelValues<L>, value: number): void;
  observe(value: number): void;
  /** Forgets every series. */
  reset(): void;
}

export interface MetricRegistry {
  /** Each name once per registry (a second metric of the same name throws). */
  counter<L extends string = never>(o: MetricOptions<L, Counter<L>>): Counter<L>;
  gauge<L extends string = never>(o: MetricOptions<L, Gauge<L>>): Gauge<L>;
  histogram<L extends string = never>(o: HistogramOptions<L>): Histogram<L>;
  /** The Prometheus text exposition (format 0.0.4) of every metric, in the order they were made. */
  metrics(): Promise<string>;
  /** The exposition's HTTP content type. */
  readonly contentType: string;
}
