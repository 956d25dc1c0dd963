/**
 * Child-process entry: one flotilla controller as `flotilla daemon` runs it (embedded DNS server in the same
 * process, real drivers, file state store, default loop settings), watching the mirrors given in the config.
 * Optional BIND (RFC 2136 + TSIG) and PowerDNS (HTTP API) servers are written too. Reports flips as events, and keeps
 * a trace of probes, flips, decisions, writes and verifications for per-stage timings (request 'trace').
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestSite } from '../../src/config/site-digest.ts';
import { Controller } from '../../src/controller/controller.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import type { DnsProviderSpec, FleetSpec } from '../../src/domain/fleet-spec.ts';
import { startEmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { HttpProbe } from '../../src/probes/http-probe.ts';
import type { ProbeResult } from '../../src/probes/probe-result.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { wrapDriver } from '../../src/drivers/driver-wrapper.ts';
import { childMain } from './procs.ts';

const TRACE_KEEP_MS = 120_000;

export interface FlotillaNodeConfig {
  label: string;
  zone: string;
  mirrors: { name: string; ip: string; port: number }[];
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  jitter: number;
  contentDir: string;
  ttl: number;
  /** Connections one probe may try (default: the probe's own, 4); 1 = a single attempt, as before hedging. */
  maxAttempts?: number;
  /** health.fastInterval; equal to intervalMs turns fast re-probes off. */
  fastIntervalMs?: number;
  bind?: { address: string; keyName: string; secret: string };
  pdns?: { apiUrl: string; apiKey: string; serverId: string; dnsAddress: string };
}

export interface FlipEvent {
  kind: 'flip';
  mirror: string;
  state: string;
  /** performance.timeOrigin + performance.now() of the flip, ms since epoch. */
  at: number;
  /** Flips in the flap window before this one: 3 or more means the mirror was held back as flapping. */
  priorFlips: number;
  /** The reason of the probe that flipped it. */
  reason: string;
}

/**
 * One step on the way from a probe to an answer, for per-stage timings (bench/failover.ts). `at` is Date.now() in
 * the node (the controller's own clock), so the bench compares it with its own Date.now() of a kill or SIGCONT.
 */
export type TraceEvent =
  | { kind: 'probe'; mirror: string; ok: boolean; reason: string; start: number; at: number }
  | { kind: 'flip'; mirror: string; state: string; at: number }
  | { kind: 'decision'; reason: string; at: number }
  | { kind: 'write'; provider: string; start: number; at: number }
  | { kind: 'verified'; provider: string; convergeMs?: number; at: number };

/** The driver with every applyChanges noted as a 'write' (start and end). */
function traced(d: DnsDriver, note: (e: TraceEvent) => void): DnsDriver {
  return wrapDriver(d, {
    applyChanges: async (zone, changes, signal) => {
      const start = Date.now();
      try {
        return await d.applyChanges(zone, changes, signal);
      } finally {
        note({ kind: 'write', provider: d.name, start, at: Date.now() });
      }
    },
  });
}

await childMain<FlotillaNodeConfig>(async (cfg, emit) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-node-'));
  const zoneDir = join(stateDir, 'zones');
  const zoneStore = openZoneStore(zoneDir);
  await zoneStore.ensureZone(cfg.zone);
  const embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zoneStore });
  const site = await digestSite(cfg.contentDir);
  const providers: DnsProviderSpec[] = [{ name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: embedded.port, zoneDir } }];
  const servers = [{ label: 'embedded', address: embedded.address }];
  if (cfg.bind) {
    providers.push({ name: 'bind', kind: 'rfc2136', settings: { server: cfg.bind.address, tsigKeyName: cfg.bind.keyName, tsigSecretEnv: 'BENCH_TSIG' } });
    servers.push({ label: 'bind', address: cfg.bind.address });
  }
  if (cfg.pdns) {
    providers.push({ name: 'pdns', kind: 'powerdns', settings: { url: cfg.pdns.apiUrl, apiKeyEnv: 'BENCH_PDNS', serverId: cfg.pdns.serverId, nameservers: [cfg.pdns.dnsAddress], timeout: '2s' } });
    servers.push({ label: 'pdns-api', address: cfg.pdns.dnsAddress });
  }
  const spec: FleetSpec = {
    stack: `bench-${cfg.label}`,
    site: { name: 'sample', contentDir: cfg.contentDir, digest: site.digest, files: site.files },
    domain: cfg.zone,
    alternateDomains: [],
    mirrors: cfg.mirrors.map((m) => ({ name: m.name, provider: 'local', ipv4: m.ip, settings: {}, health: { port: m.port } })),
    dnsProviders: providers,
    registrars: [],
    health: { intervalMs: cfg.intervalMs, fastIntervalMs: cfg.fastIntervalMs, timeoutMs: cfg.timeoutMs, rise: cfg.rise, fall: cfg.fall, path: '/', scheme: 'http', expectStatus: [200], checkDigest: true, tlsMinDays: 7, jitter: cfg.jitter },
    canaries: [{ target: embedded.address }],
    policy: { ttl: cfg.ttl, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'bench' },
    state: { kind: 'file', path: stateDir, endpoints: [] },
    server: { listen: '127.0.0.1', port: 0, tokenEnv: 'UNUSED' },
  };
  // the per-stage trace: what happened when, kept for the last TRACE_KEEP_MS (the bench asks after each trial)
  let trace: TraceEvent[] = [];
  const note = (e: TraceEvent) => {
    trace.push(e);
    if (trace.length > 5000) trace = trace.filter((x) => x.at > Date.now() - TRACE_KEEP_MS);
  };
  const drivers = (await createDrivers(providers, { env: { BENCH_TSIG: cfg.bind?.secret, BENCH_PDNS: cfg.pdns?.apiKey }, stateDir })).map((d) => traced(d, note));
  const probe = cfg.maxAttempts === undefined ? undefined : new HttpProbe({ maxAttempts: cfg.maxAttempts });
  const controller = new Controller({ spec, store: new FileStateStore(stateDir), drivers, query: directQuery, probe });
  // probes per mirror since the last `probeStats`: all, failed, and those that needed more than one connection
  let probeStats: Record<string, { probes: number; failed: number; hedged: number }> = {};
  controller.on('probe', (r: ProbeResult) => {
    note({ kind: 'probe', mirror: r.mirror, ok: r.ok, reason: r.reason, start: r.at, at: Date.now() });
    const st = (probeStats[r.mirror] ??= { probes: 0, failed: 0, hedged: 0 });
    st.probes++;
    if (!r.ok) st.failed++;
    if ((r.attempts ?? 1) > 1) st.hedged++;
  });
  controller.on('flip', (f: { mirror: string; state: string; reason: string }) => {
    note({ kind: 'flip', mirror: f.mirror, state: f.state, at: Date.now() });
    const h = controller.health[f.mirror];
    const prior = Math.max(0, (h?.recentFlips.length ?? 0) - 1);
    emit({ kind: 'flip', mirror: f.mirror, state: f.state, at: performance.timeOrigin + performance.now(), priorFlips: prior, reason: f.reason } satisfies FlipEvent);
  });
  controller.on('audit', (e: AuditEvent) => {
    if (e.kind === 'decision') note({ kind: 'decision', reason: e.message, at: e.at });
    if (e.kind === 'verify') {
      const servers = (e.data as { servers?: { ms?: number }[] } | undefined)?.servers ?? [];
      const ms = servers.every((v) => v.ms !== undefined) ? Math.max(...servers.map((v) => v.ms!)) : undefined;
      note({ kind: 'verified', provider: String((e.data as { provider?: string })?.provider), convergeMs: ms, at: e.at });
    }
  });
  await controller.start();
  return {
    ready: { servers },
    handlers: {
      health: async () => controller.health,
      /** Trace events at or after `since` (Date.now() ms). */
      trace: async (body) => trace.filter((e) => e.at >= Number(body.since ?? 0)),
      probeStats: async () => {
        const out = probeStats;
        probeStats = {};
        return out;
      },
    },
    shutdown: async () => {
      await controller.stop();
      await embedded.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
});
