import { describeAddresses, isProvisioned, withInventory } from '../domain/inventory.ts';
import type { AuditEvent } from '../domain/audit.ts';
import { unknownHealth, type MirrorState } from '../domain/health.ts';
import { activeOverrides, type Override } from '../domain/override.ts';
import type { RecordSet } from '../domain/records.ts';
import { redactDeep } from '../domain/redact-url.ts';
import type { ControllerView } from '../controller/controller-view.ts';

export interface MirrorRow {
  name: string;
  provider: string;
  address: string;
  state: MirrorState;
  successStreak: number;
  failureStreak: number;
  since?: number;
  lastLatencyMs?: number;
  lastProbeAt?: number;
  lastReason?: string;
  /** The host took the site down on purpose (451, suspension page, another certificate issuer): which sign. */
  deplatformed?: string;
  /** Flips in the flap window. */
  recentFlips: number;
  /** In the desired answer now. */
  serving: boolean;
  drained: boolean;
}

export interface ProviderRow {
  name: string;
  kind: string;
  /** A/AAAA record sets the provider held at the last reconcile, every zone. */
  records: (RecordSet & { zone: string })[];
  lastAppliedAt?: number;
  lastConvergedAt?: number;
  lastConvergeMs?: number;
  lastError?: string;
  lastErrorCode?: string;
  /** Foreign RRsets at names flotilla publishes (left alone, not verified). */
  conflicts?: string[];
}

/** One controller replica's point of view: live while its lease holds; its own verdict per mirror. */
export interface VantageRow {
  name: string;
  live: boolean;
  /** This controller's own vantage. */
  self: boolean;
  at?: number;
  verdicts: Record<string, MirrorState>;
}

/** What the status page, GET /api/status and the event stream show. Plain JSON. */
export interface StatusSnapshot {
  stack: string;
  domain: string;
  now: number;
  /** Mirrors the controller wants in the answer now. */
  serving: string[];
  /** Mirrors in the last answer every provider accepted (undefined before the first reconcile). */
  published?: string[];
  failOpen: boolean;
  degraded: boolean;
  cutOff: boolean;
  notes: string[];
  mirrors: MirrorRow[];
  providers: ProviderRow[];
  overrides: Override[];
  /** This controller's vantage, every vantage known, and who writes (several controllers on etcd; one otherwise). */
  vantage: string;
  vantages: VantageRow[];
  leader?: { vantage: string; since: number };
  /** Why nothing is written now (fail static), when it is not. */
  failStatic?: string;
  /** Recent audit events, newest last (only in full snapshots, not in every pushed update). */
  audit?: AuditEvent[];
}

/** The controller's view now, from memory (no I/O). */
export function statusSnapshot(controller: ControllerView, now: number): StatusSnapshot {
  const spec = withInventory(controller.spec, controller.inventory);
  const decision = controller.decision();
  const desired = decision.desired;
  const overrides = activeOverrides(controller.overrides, now);
  const drained = new Set(overrides.filter((o) => o.kind === 'drain').map((o) => o.mirror));
  const mirrors = spec.mirrors.map((m): MirrorRow => {
    const h = controller.health[m.name] ?? unknownHealth();
    const state = decision.health[m.name]?.state ?? h.state;
    return {
      name: m.name,
      provider: m.provider,
      address: describeAddresses({ provisioned: isProvisioned(m), ipv4: m.ipv4, ipv6: m.ipv6 }),
      // the decided state (quorum of the live vantages); streaks and reasons are this vantage's own
      state,
      successStreak: h.successStreak,
      failureStreak: h.failureStreak,
      since: h.since,
      lastLatencyMs: h.lastLatencyMs,
      lastProbeAt: h.lastProbeAt,
      lastReason: h.lastReason,
      ...(state === 'down' && h.deplatformed !== undefined ? { deplatformed: h.deplatformed } : {}),
      recentFlips: h.recentFlips.length,
      serving: desired.serving.includes(m.name),
      drained: drained.has(m.name),
    };
  });
  const providers = spec.dnsProviders.map((p): ProviderRow => {
    const st = controller.providerStatus[p.name] ?? {};
    const records = Object.entries(st.records ?? {}).flatMap(([zone, sets]) =>
      sets.filter((r) => r.type === 'A' || r.type === 'AAAA').map((r) => ({ zone, ...r })),
    );
    return { name: p.name, kind: p.kind, records, lastAppliedAt: st.lastAppliedAt, lastConvergedAt: st.lastConvergedAt, lastConvergeMs: st.lastConvergeMs, lastError: st.lastError, lastErrorCode: st.lastErrorCode, conflicts: st.conflicts };
  });
  // the last line of defence for the page, /api/status and the stream: no URL's userinfo or token, whatever the source
  return redactDeep({
    stack: spec.stack,
    domain: spec.domain,
    now,
    serving: desired.serving,
    published: controller.lastServing && [...controller.lastServing],
    failOpen: desired.failOpen,
    degraded: desired.degraded,
    cutOff: controller.cutOff,
    notes: desired.notes,
    mirrors,
    providers,
    overrides,
    vantage: controller.vantage,
    vantages: controller.vantageViews().map((v) => ({ name: v.name, live: v.live, self: v.name === controller.vantage, at: v.at, verdicts: Object.fromEntries(spec.mirrors.map((m) => [m.name, v.health[m.name]?.state ?? 'unknown'])) })),
    leader: controller.leader(),
    failStatic: decision.failStatic,
  });
}

/** The snapshot plus the most recent audit events (from memory: see RecentAudit). */
export function fullSnapshot(controller: ControllerView, now: number, audit: readonly AuditEvent[]): StatusSnapshot {
  return { ...statusSnapshot(controller, now), audit: redactDeep([...audit]) };
}
