import type { AuditEvent } from '../domain/audit.ts';
import type { MetricRegistry } from '../domain/metric-registry.ts';
import type { ControllerView } from '../controller/controller-view.ts';
import type { ReconcileOutcome } from '../controller/reconcile-outcome.ts';
import type { ProbeResult } from '../probes/probe-result.ts';
import { addProcessMetrics } from './metrics-process.ts';
import { createMetricRegistry } from './metrics-registry.ts';

export interface ControllerMetrics {
  /** A registry of its own, so two servers in one process do not collide. */
  registry: MetricRegistry;
  /** Stops listening to the controller (and the process metrics' event-loop monitor and GC observer). */
  close(): void;
}

/** An embedded DNS server as /metrics reads it (structurally: the server layer does not import drivers). */
export interface DnsListener {
  port: number;
  stats(): { tcpRefused: number; udpSlipped: number; udpDropped: number };
}

/**
 * Counters of hostile or greedy clients, read at scrape time from each listener's own monotonic counts:
 * `flotilla_connections_refused_total{listener,port}` (http and dns-tcp: reset at accept over a cap; event-stream:
 * answered 503) and `flotilla_dns_udp_limited_total{port,action}` (answers slipped, sent truncated, or dropped by the
 * response-rate limit).
 */
export function addListenerMetrics(
  registry: MetricRegistry,
  o: { refused: () => { listener: string; port: number; refused: number }[]; udp: () => { port: number; slipped: number; dropped: number }[] },
): void {
  registry.counter({
    name: 'flotilla_connections_refused_total',
    help: 'Connections refused because a cap was reached (http, dns-tcp: reset at accept; event-stream: 503), per listener and port.',
    labelNames: ['listener', 'port'] as const,
    collect() {
      this.reset();
      for (const r of o.refused()) this.inc({ listener: r.listener, port: String(r.port) }, r.refused);
    },
  });
  registry.counter({
    name: 'flotilla_dns_udp_limited_total',
    help: 'Embedded DNS answers over the UDP response-rate limit: slipped (sent truncated, TC=1) or dropped, per port.',
    labelNames: ['port', 'action'] as const,
    collect() {
      this.reset();
      for (const u of o.udp()) {
        this.inc({ port: String(u.port), action: 'slipped' }, u.slipped);
        this.inc({ port: String(u.port), action: 'dropped' }, u.dropped);
      }
    },
  });
}

const STATE_VALUE = { up: 1, down: 0, unknown: -1 } as const;

/**
 * Prometheus metrics of one controller. Counters and histograms follow the controller's events; gauges read the
 * controller's current state at scrape time (so a spec reload is reflected without bookkeeping).
 */
export function createMetrics(controller: ControllerView): ControllerMetrics {
  const registry = createMetricRegistry();
  const processMetrics = addProcessMetrics(registry); // process_* and nodejs_*: memory, CPU, event-loop lag

  const probeLatency = registry.histogram({
    name: 'flotilla_probe_latency_seconds',
    help: 'Wall time of one health probe (connect, TLS, headers and body), per mirror.',
    labelNames: ['mirror'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const probes = registry.counter({
    name: 'flotilla_probes_total',
    help: 'Health probes run, per mirror and result.',
    labelNames: ['mirror', 'result'] as const,
  });
  const flips = registry.counter({
    name: 'flotilla_flips_total',
    help: 'Mirror health state changes, per mirror and new state.',
    labelNames: ['mirror', 'state'] as const,
  });
  const applyErrors = registry.counter({
    name: 'flotilla_apply_errors_total',
    help: 'Failed reconciles of one zone at one DNS provider.',
    labelNames: ['provider'] as const,
  });
  const reconciles = registry.counter({
    name: 'flotilla_reconciles_total',
    help: 'Reconciles run, by result (ok, error, skipped).',
    labelNames: ['result'] as const,
  });
  const convergence = registry.histogram({
    name: 'flotilla_convergence_seconds',
    help: 'From a decision to the last authoritative server of every provider answering it.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  const auditEvents = registry.counter({
    name: 'flotilla_audit_events_total',
    help: 'Audit log events, by kind.',
    labelNames: ['kind'] as const,
  });
  registry.gauge({
    name: 'flotilla_mirror_health',
    help: 'Mirror health: 1 up, 0 down, -1 unknown (never probed).',
    labelNames: ['mirror'] as const,
    collect() {
      this.reset();
      for (const m of controller.spec.mirrors) this.set({ mirror: m.name }, STATE_VALUE[controller.health[m.name]?.state ?? 'unknown']);
    },
  });
  registry.gauge({
    name: 'flotilla_mirror_serving',
    help: '1 when the mirror is in the answer the controller wants now, else 0.',
    labelNames: ['mirror'] as const,
    collect() {
      this.reset();
      const serving = new Set(controller.desired().serving);
      for (const m of controller.spec.mirrors) this.set({ mirror: m.name }, serving.has(m.name) ? 1 : 0);
    },
  });
  registry.gauge({
    name: 'flotilla_fail_open',
    help: '1 while every mirror looks down and the last good set is published instead.',
    collect() {
      this.set(controller.desired().failOpen ? 1 : 0);
    },
  });
  registry.gauge({
    name: 'flotilla_cut_off',
    help: '1 while every canary fails and the controller changes nothing (fail static).',
    collect() {
      this.set(controller.cutOff ? 1 : 0);
    },
  });
  registry.gauge({
    name: 'flotilla_vantage_live',
    help: 'Per vantage (controller replica): 1 while its lease holds and its verdicts count, 0 when stale.',
    labelNames: ['vantage'] as const,
    collect() {
      this.reset();
      for (const v of controller.vantageViews()) this.set({ vantage: v.name }, v.live ? 1 : 0);
    },
  });
  registry.gauge({
    name: 'flotilla_vantage_verdict',
    help: "One vantage's own verdict on one mirror: 1 up, 0 down, -1 unknown.",
    labelNames: ['vantage', 'mirror'] as const,
    collect() {
      this.reset();
      for (const v of controller.vantageViews()) for (const m of controller.spec.mirrors) this.set({ vantage: v.name, mirror: m.name }, STATE_VALUE[v.health[m.name]?.state ?? 'unknown']);
    },
  });
  registry.gauge({
    name: 'flotilla_leader',
    help: '1 on the vantage that leads (the only one writing DNS), labelled with it; `since` is when it won (unix seconds).',
    labelNames: ['vantage'] as const,
    collect() {
      this.reset();
      const l = controller.leader();
      if (l) this.set({ vantage: l.vantage }, 1);
    },
  });
  registry.gauge({
    name: 'flotilla_leader_since_timestamp_seconds',
    help: 'When the current leader won the election (unix seconds).',
    collect() {
      this.reset();
      const l = controller.leader();
      if (l) this.set(l.since / 1000);
    },
  });
  registry.gauge({
    name: 'flotilla_fail_static',
    help: '1 while this controller changes nothing (canaries failed, etcd lost, too few live vantages).',
    collect() {
      this.set(controller.decision().failStatic ? 1 : 0);
    },
  });
  registry.gauge({
    name: 'flotilla_provider_convergence_seconds',
    help: 'Decision to convergence at the slowest authoritative server of the provider, latest decision.',
    labelNames: ['provider'] as const,
    collect() {
      this.reset();
      for (const [name, st] of Object.entries(controller.providerStatus)) if (st.lastConvergeMs !== undefined) this.set({ provider: name }, st.lastConvergeMs / 1000);
    },
  });
  registry.gauge({
    name: 'flotilla_provider_last_converged_timestamp_seconds',
    help: 'When every authoritative server of the provider last answered the desired set (unix seconds).',
    labelNames: ['provider'] as const,
    collect() {
      this.reset();
      for (const [name, st] of Object.entries(controller.providerStatus)) if (st.lastConvergedAt !== undefined) this.set({ provider: name }, st.lastConvergedAt / 1000);
    },
  });

  // pre-create per-mirror series so a dashboard sees zeros rather than gaps before the first event
  for (const m of controller.spec.mirrors) {
    probes.inc({ mirror: m.name, result: 'ok' }, 0);
    probes.inc({ mirror: m.name, result: 'fail' }, 0);
  }
  for (const p of controller.spec.dnsProviders) applyErrors.inc({ provider: p.name }, 0);

  const onProbe = (r: ProbeResult) => {
    probeLatency.observe({ mirror: r.mirror }, r.latencyMs / 1000);
    probes.inc({ mirror: r.mirror, result: r.ok ? 'ok' : 'fail' });
  };
  const onFlip = (f: { mirror: string; state: string }) => flips.inc({ mirror: f.mirror, state: f.state });
  const onReconcile = (o: ReconcileOutcome) => {
    if (o.skipped) {
      reconciles.inc({ result: 'skipped' });
      return;
    }
    reconciles.inc({ result: o.reports.every((r) => r.ok) ? 'ok' : 'error' });
    for (const r of o.reports) if (!r.ok) applyErrors.inc({ provider: r.provider });
    if (o.convergeMs !== undefined) convergence.observe(o.convergeMs / 1000);
  };
  const onAudit = (e: AuditEvent) => auditEvents.inc({ kind: e.kind });
  controller.on('probe', onProbe);
  controller.on('flip', onFlip);
  controller.on('reconcile', onReconcile);
  controller.on('audit', onAudit);
  return {
    registry,
    close() {
      controller.off('probe', onProbe);
      controller.off('flip', onFlip);
      controller.off('reconcile', onReconcile);
      controller.off('audit', onAudit);
      processMetrics.close();
    },
  };
}
