import { EventEmitter } from 'node:events';
import type { AuditEvent } from '../domain/audit.ts';
import { mirrorHealth, zoneOf, type FleetSpec } from '../domain/fleet-spec.ts';
import { unknownHealth, type Health } from '../domain/health.ts';
import { activeOverrides, type Override } from '../domain/override.ts';
import type { State } from '../domain/state.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import { desiredRecords, type DesiredState } from '../planner/desired-records.ts';
import { isMarkerName } from '../planner/ownership.ts';
import { DnsProbe } from '../probes/dns-probe.ts';
import { HttpProbe } from '../probes/http-probe.ts';
import { TcpProbe } from '../probes/tcp-probe.ts';
import { fastIntervalFor, fastRecheckAt, initialOffsets, nextDue } from '../probes/probe-schedule.ts';
import type { Probe, ProbeResult } from '../probes/probe-result.ts';
import { probeTargetFor, type ProbeTarget } from '../probes/probe-target.ts';
import type { StateStore } from '../state/state-store.ts';
import { updateState } from '../state/state-store.ts';
import { checkCanaries, type CanaryResult } from './canaries.ts';
import { hysteresisFor, inTransition, observe } from './health-tracker.ts';
import { reconcileAll, type ZoneReport } from './reconcile.ts';
import { verifyAll, type DnsQueryFn, type ServerVerdict } from './verify.ts';
import { WriteBudget } from './write-budget.ts';

export interface ControllerOptions {
  spec: FleetSpec;
  store: StateStore;
  drivers: DnsDriver[];
  /** DNS query used to verify every authoritative server after each apply. */
  query: DnsQueryFn;
  probe?: Probe;
  /** Nameservers to verify per provider; default driver.nameservers(zone). */
  now?: () => number;
  log?: (line: string) => void;
  /** How long to wait for every server to converge after an apply (default 10 s). */
  verifyDeadlineMs?: number;
  /** How often providers are re-listed and caught up even without a decision (default 10 s). */
  resyncMs?: number;
  /** How long stop() lets provider passes in flight finish before aborting them (default 30 s). */
  stopGraceMs?: number;
  /** How often overrides are re-read from the store (CLI writes them from another process; default 500 ms). */
  overridePollMs?: number;
}

export interface ReconcileOutcome {
  reason: string;
  decidedAt: number;
  desired: Pick<DesiredState, 'serving' | 'failOpen' | 'degraded' | 'notes'>;
  skipped?: string;
  reports: ZoneReport[];
  verify: ServerVerdict[];
  /** Decision → last authoritative server converged (ms), when all converged. */
  convergeMs?: number;
}

/**
 * The health-check controller: probes every mirror on its own jittered schedule, decides with hysteresis, and on
 * every change of the serving set reconciles all providers in parallel, then verifies every authoritative server.
 * Writes are coalesced: a decision arriving while a reconcile runs is applied right after it, with the latest data.
 *
 * Events: 'probe' (ProbeResult), 'flip' ({mirror, state}), 'reconcile' (ReconcileOutcome), 'audit' (AuditEvent),
 * 'canaries' (CanaryResult).
 */
export class Controller extends EventEmitter {
  spec: FleetSpec;
  readonly store: StateStore;
  readonly drivers: DnsDriver[];
  health: Health = {};
  overrides: Override[] = [];
  lastGood: string[] = [];
  lastServing: string[] | undefined;
  cutOff = false;
  lastCanaries: CanaryResult | undefined;
  lastOutcome: ReconcileOutcome | undefined;
  providerStatus: State['providers'] = {};
  private readonly probes: Record<'http' | 'tcp' | 'dns', Probe>;
  private readonly query: DnsQueryFn;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly budgets = new Map<string, WriteBudget>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private readonly workers = new Map<string, ProviderWorker>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Consecutive failed passes per provider (for backoff and for auditing an outage once). */
  private readonly failures = new Map<string, number>();
  private failingOpen = false;
  private startedOnce = false;
  private generation = 0;
  private readonly background = new Set<Promise<unknown>>();
  /** The serving set of the latest decision, and when it was taken (the start of the failover clock). */
  private lastDecided: string[] | undefined;
  private decisionAt: number | undefined;
  private stopped = true;
  private targets = new Map<string, ProbeTarget>();

  constructor(private readonly o: ControllerOptions) {
    super();
    this.spec = o.spec;
    this.store = o.store;
    this.drivers = o.drivers;
    // an injected probe (tests) serves every kind
    this.probes = o.probe ? { http: o.probe, tcp: o.probe, dns: o.probe } : { http: new HttpProbe(), tcp: new TcpProbe(), dns: new DnsProbe() };
    this.query = o.query;
    this.now = o.now ?? Date.now;
    this.log = o.log ?? (() => {});
    for (const d of o.drivers) this.budgets.set(d.name, new WriteBudget(d.capabilities.writeBudget.requests, d.capabilities.writeBudget.perMs));
    this.buildTargets();
  }

  /** Loads state, publishes once, and starts the probe, canary and override loops. */
  async start(): Promise<void> {
    const st = await this.store.load();
    this.health = st.health;
    this.overrides = st.overrides;
    this.lastGood = st.lastGood;
    this.providerStatus = st.providers;
    for (const m of this.spec.mirrors) this.health[m.name] ??= unknownHealth();
    this.stopped = false;
    this.startedOnce = true;
    await this.audit({ kind: 'daemon', message: `controller started for stack ${this.spec.stack} (${this.spec.mirrors.length} mirrors, ${this.drivers.length} providers)` });
    if (this.spec.canaries.length > 0) await this.runCanaries();
    this.startProbeLoops();
    this.every(this.spec.health.intervalMs, () => this.runCanaries(), this.spec.canaries.length > 0);
    this.every(this.o.overridePollMs ?? 500, () => this.pollOverrides(), true);
    this.every(this.o.resyncMs ?? 10_000, () => this.requestReconcile('resync'), true);
    this.every(5_000, () => this.persist(), true);
    await this.requestReconcile('startup');
  }

  /** Stops the loops, lets the reconcile in flight finish, saves state. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.background);
    // let the applies in flight finish; a provider that made us wait (a retry-after lockout) is abandoned after the grace
    const idle = Promise.all([...this.workers.values()].map((w) => w.idle()));
    let grace: NodeJS.Timeout | undefined;
    const late = await Promise.race([idle.then(() => false), new Promise<boolean>((r) => { grace = setTimeout(() => r(true), this.o.stopGraceMs ?? 30_000); })]);
    clearTimeout(grace);
    this.abort.abort();
    if (late) {
      await this.audit({ kind: 'error', message: 'stopping: a provider was still busy after the grace period; its pass was abandoned and is caught up at the next start' });
      await idle.catch(() => undefined);
    }
    await this.persist();
    await Promise.all([...new Set(Object.values(this.probes))].map((p) => p.close?.()));
    await this.audit({ kind: 'daemon', message: 'controller stopped' });
  }

  /** Swaps the spec (SIGHUP). Mirrors new to the spec start unknown; removed ones are forgotten. */
  async reload(spec: FleetSpec): Promise<void> {
    this.spec = spec;
    for (const m of spec.mirrors) this.health[m.name] ??= unknownHealth();
    this.buildTargets();
    if (!this.stopped) {
      // a new generation: loops of the old spec end, even those whose task is in flight right now
      this.generation++;
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      this.retryTimer = undefined;
      this.startProbeLoops();
      this.every(spec.health.intervalMs, () => this.runCanaries(), spec.canaries.length > 0);
      this.every(this.o.overridePollMs ?? 500, () => this.pollOverrides(), true);
      this.every(this.o.resyncMs ?? 10_000, () => this.requestReconcile('resync'), true);
      this.every(5_000, () => this.persist(), true);
    }
    await this.audit({ kind: 'daemon', message: 'spec reloaded' });
    await this.requestReconcile('spec reloaded');
  }

  /** One probe of every mirror, in parallel (for `flotilla check`). Does not change health. */
  async probeOnce(): Promise<ProbeResult[]> {
    return Promise.all(this.spec.mirrors.map((m) => this.probeFor(m.name).run(this.targets.get(m.name)!, this.abort.signal)));
  }

  /** The desired state now (no I/O). */
  desired(): DesiredState {
    return desiredRecords(this.spec, this.health, this.overrides, { now: this.now(), lastGood: this.lastGood });
  }

  /**
   * Decides now and asks every provider's worker to converge to the decision. Each provider has its own worker that
   * coalesces requests (one write in flight per provider, the latest decision next), so a slow or dead provider never
   * delays the others. Resolves when every provider has finished a pass covering this decision.
   */
  async requestReconcile(reason: string): Promise<ReconcileOutcome> {
    const decidedAt = this.now();
    if (this.stopped && this.startedOnce) {
      return { reason, decidedAt, desired: { serving: this.lastDecided ?? [], failOpen: false, degraded: false, notes: [] }, skipped: 'controller stopped', reports: [], verify: [] };
    }
    const desired = this.desired();
    const summary = { serving: desired.serving, failOpen: desired.failOpen, degraded: desired.degraded, notes: desired.notes };
    if (this.cutOff) {
      const outcome: ReconcileOutcome = { reason, decidedAt, desired: summary, skipped: 'fail static: the controller looks cut off (every canary failed); changing nothing', reports: [], verify: [] };
      // the transition into fail static is audited by runCanaries; every skipped pass is not
      this.emit('reconcile', outcome);
      return outcome;
    }
    const changed = this.lastDecided === undefined || this.lastDecided.join(',') !== desired.serving.join(',');
    if (changed) {
      this.lastDecided = desired.serving;
      this.decisionAt = decidedAt;
      await this.audit({ kind: 'decision', message: `serve ${desired.serving.join(', ')} (${reason})`, data: { ...summary, reason } });
      if (!desired.failOpen) this.lastGood = desired.serving;
    }
    if (desired.failOpen && !this.failingOpen) await this.audit({ kind: 'fail-open', message: desired.notes.join('; ') });
    this.failingOpen = desired.failOpen;
    const passes = await Promise.all(this.drivers.map((d) => this.worker(d).request()));
    const reports = passes.flatMap((p) => p.reports);
    const verify = passes.flatMap((p) => p.verify);
    const convergeMs = verify.length > 0 && verify.every((v) => v.converged) ? Math.max(...verify.map((v) => v.ms ?? 0)) : undefined;
    if (reports.every((r) => r.ok)) this.lastServing = desired.serving;
    if (changed) await this.persist();
    const outcome: ReconcileOutcome = { reason, decidedAt, desired: summary, reports, verify, convergeMs };
    this.lastOutcome = outcome;
    this.emit('reconcile', outcome);
    return outcome;
  }

  private worker(d: DnsDriver): ProviderWorker {
    let w = this.workers.get(d.name);
    if (!w) {
      w = new ProviderWorker(() => this.providerPass(d));
      this.workers.set(d.name, w);
    }
    return w;
  }

  /** One pass for one provider: list → plan → apply the LATEST decision, then verify its servers. */
  private async providerPass(d: DnsDriver): Promise<{ reports: ZoneReport[]; verify: ServerVerdict[] }> {
    const desired = this.desired();
    const startedAt = this.decisionAt ?? this.now();
    const reports = await reconcileAll({
      drivers: [d],
      zones: desired.zones,
      ownerId: this.spec.policy.ownerId,
      maxRemoveShare: this.spec.policy.maxRemoveShare,
      budgets: this.budgets,
      signal: this.abort.signal,
    });
    const st = (this.providerStatus[d.name] ??= {});
    const failedBefore = this.failures.get(d.name) ?? 0;
    if (reports.every((r) => r.ok)) {
      this.failures.delete(d.name);
      if (failedBefore > 0) await this.audit({ kind: 'apply', message: `${d.name}: reachable again after ${failedBefore} failed pass(es)`, data: { provider: d.name, recovered: true } });
    } else this.failures.set(d.name, failedBefore + 1);
    for (const r of reports) {
      if (r.ok) {
        st.records = { ...(st.records ?? {}), [r.zone]: r.records ?? [] };
        st.lastError = undefined;
        if (r.applied > 0) {
          st.lastAppliedAt = this.now();
          await this.audit({ kind: 'apply', message: `${r.provider} ${r.zone}: ${r.applied} change(s)`, data: { provider: r.provider, zone: r.zone, changes: r.plan?.changes.length, ms: Math.round(r.ms) } });
        }
      } else {
        // an outage is audited when it starts or changes, not on every retry
        if (st.lastError !== r.error) await this.audit({ kind: 'apply-error', message: r.error ?? 'failed', data: { provider: r.provider, zone: r.zone, code: r.errorCode } });
        st.lastError = r.error;
      }
    }
    if (reports.some((r) => !r.ok)) {
      if (!this.stopped) this.retrySoon();
      return { reports, verify: [] };
    }
    const served = st.verifiedServing;
    const want = desired.serving.join(',');
    if (reports.every((r) => r.applied === 0) && served === want) return { reports, verify: [] };
    const verify = await this.verify(desired, new Set([d.name]), startedAt);
    if (verify.length > 0 && verify.every((v) => v.converged)) {
      const ms = Math.max(...verify.map((v) => v.ms ?? 0));
      Object.assign(st, { lastConvergedAt: this.now(), lastConvergeMs: Math.round(ms), verifiedServing: want });
    }
    await this.audit({
      kind: 'verify',
      message: verify.every((v) => v.converged)
        ? `${d.name}: all ${verify.length} authoritative server(s) answer ${desired.serving.join(', ')}, ${Math.round(Math.max(0, ...verify.map((v) => v.ms ?? 0)))}ms after the decision`
        : `${d.name}: not converged: ${verify.filter((v) => !v.converged).map((v) => `${v.server}: ${v.last}`).join('; ')}`,
      data: { provider: d.name, servers: verify.map((v) => ({ server: v.server, converged: v.converged, ms: v.ms === undefined ? undefined : Math.round(v.ms) })) },
    });
    return { reports, verify };
  }

  private async verify(desired: DesiredState, providers: Set<string>, startedAt: number): Promise<ServerVerdict[]> {
    const expect = Object.values(desired.zones).flat().filter((r) => !isMarkerName(r.name));
    const targets = [];
    for (const d of this.drivers) {
      if (!providers.has(d.name)) continue;
      const servers = new Set<string>();
      for (const zone of Object.keys(desired.zones)) {
        try {
          for (const s of await d.nameservers(zone)) servers.add(s);
        } catch {
          /* reported by the apply path */
        }
      }
      targets.push({ provider: d.name, servers: [...servers], expect });
    }
    return verifyAll({ targets, query: this.query, startedAt, deadlineMs: this.o.verifyDeadlineMs ?? 10_000, now: this.now });
  }

  private retrySoon(): void {
    if (this.retryTimer) return;
    // back off while a provider stays down: 1 s, 2 s, 4 s ... 30 s
    const worst = Math.max(1, ...this.failures.values());
    const delay = Math.min(30_000, 1000 * 2 ** (worst - 1));
    const t = setTimeout(() => { this.timers.delete(t); this.retryTimer = undefined; void this.requestReconcile('retry after provider error'); }, delay);
    this.retryTimer = t;
    this.timers.add(t);
  }

  private probeFor(mirror: string): Probe {
    const m = this.spec.mirrors.find((x) => x.name === mirror);
    return this.probes[(m && mirrorHealth(this.spec, m).probe) ?? 'http'];
  }

  private buildTargets(): void {
    this.targets = new Map(this.spec.mirrors.map((m) => [m.name, probeTargetFor(this.spec, m)]));
  }

  /**
   * One loop per mirror on its slot grid (probe-schedule.ts). A mirror mid-transition (failed once while serving,
   * passed once while down) is re-probed every fastInterval until the transition completes or resets; a mirror is
   * never probed twice at once, so results arrive in order.
   */
  private startProbeLoops(): void {
    const mirrors = this.spec.mirrors;
    const offsets = initialOffsets(mirrors.length, this.spec.health.intervalMs);
    const start = this.now();
    mirrors.forEach((m, i) => {
      const mh = mirrorHealth(this.spec, m);
      const h = hysteresisFor(mh);
      const interval = mh.intervalMs;
      const fastMs = fastIntervalFor(interval, mh.fastIntervalMs);
      let due = start + offsets[i];
      let nextSlotAt = due;
      let inFlight = false;
      let fastTimer: NodeJS.Timeout | undefined;
      const gen = this.generation;
      const live = () => !this.stopped && gen === this.generation;
      const later = (ms: number, fn: () => void) => {
        const t = setTimeout(() => { this.timers.delete(t); fn(); }, Math.max(0, ms));
        this.timers.add(t);
        return t;
      };
      const cancelFast = () => {
        if (fastTimer) { clearTimeout(fastTimer); this.timers.delete(fastTimer); }
        fastTimer = undefined;
      };
      const probe = async () => {
        if (!live() || inFlight) return; // a slot that finds a fast re-probe in flight is covered by it
        const target = this.targets.get(m.name);
        if (!target) return;
        inFlight = true;
        const startedAt = this.now();
        let r: ProbeResult;
        try {
          r = await this.probeFor(m.name).run(target, this.abort.signal);
        } finally {
          inFlight = false;
        }
        if (this.stopped) return;
        this.emit('probe', r);
        if (this.cutOff) return; // blind: do not count what we cannot see
        const cur = this.health[m.name] ?? unknownHealth();
        const { next: nh, flipped } = observe(cur, { ok: r.ok, reason: r.reason, latencyMs: r.latencyMs, at: r.at }, h);
        this.health[m.name] = nh;
        if (flipped) {
          this.emit('flip', { mirror: m.name, state: nh.state, reason: r.reason });
          void this.audit({ kind: 'flip', message: `${m.name} is ${nh.state}: ${r.reason}`, data: { mirror: m.name, state: nh.state } });
          const d = this.desired();
          if (this.lastDecided === undefined || d.serving.join(',') !== this.lastDecided.join(',')) void this.requestReconcile(`${m.name} ${nh.state}`);
        }
        if (!live() || !inTransition(nh, h, r.at)) return;
        const at = fastRecheckAt({ lastStart: startedAt, fastIntervalMs: fastMs, now: this.now(), nextSlotAt });
        if (at === undefined) return;
        cancelFast();
        fastTimer = later(at - this.now(), () => { fastTimer = undefined; void probe(); });
      };
      const slot = () => {
        if (!live() || !this.targets.has(m.name)) return;
        const next = nextDue({ lastDue: due, intervalMs: interval, jitter: mh.jitter, random: Math.random, now: this.now() });
        due = next.due;
        nextSlotAt = next.at;
        later(next.at - this.now(), slot);
        cancelFast();
        void probe();
      };
      later(due - this.now(), slot);
    });
  }

  private every(ms: number, fn: () => Promise<unknown>, enabled: boolean): void {
    if (!enabled) return;
    const gen = this.generation;
    const loop = () => {
      const t = setTimeout(async () => {
        this.timers.delete(t);
        if (this.stopped || gen !== this.generation) return;
        const task = fn().catch((e) => this.log(`background task failed: ${(e as Error).message}`));
        this.background.add(task);
        await task;
        this.background.delete(task);
        if (!this.stopped && gen === this.generation) loop();
      }, ms);
      this.timers.add(t);
    };
    loop();
  }

  private async runCanaries(): Promise<void> {
    const r = await checkCanaries(this.spec.canaries, Math.max(this.spec.health.timeoutMs, 200), this.abort.signal);
    this.lastCanaries = r;
    this.emit('canaries', r);
    const cut = r.results.length > 0 && r.results.every((x) => !x.ok);
    if (cut !== this.cutOff) {
      this.cutOff = cut;
      await this.audit({ kind: cut ? 'fail-static' : 'daemon', message: cut ? `every canary failed (${r.results.map((x) => `${x.target}: ${x.reason}`).join('; ')}): changing nothing until they answer` : 'canaries answer again: resuming' });
      if (!cut) void this.requestReconcile('canaries answer again');
    }
  }

  private async pollOverrides(): Promise<void> {
    const st = await this.store.load();
    const now = this.now();
    const expired = this.overrides.filter((o) => o.expiresAt !== undefined && o.expiresAt <= now && !st.overrides.some((x) => x.id === o.id && x.expiresAt !== o.expiresAt));
    for (const o of expired) await this.audit({ kind: 'override-expired', message: `${o.kind} of ${o.mirror} expired (was: ${o.reason}, by ${o.author})`, data: { id: o.id } });
    this.overrides = activeOverrides(st.overrides, now);
    if (expired.length > 0) await updateState(this.store, (s) => { s.overrides = activeOverrides(s.overrides, now); });
    const d = this.desired();
    if (this.lastDecided !== undefined && d.serving.join(',') !== this.lastDecided.join(',')) void this.requestReconcile('overrides changed');
  }

  async persist(): Promise<void> {
    const health = this.health;
    const providers = this.providerStatus;
    const lastGood = this.lastGood;
    await updateState(this.store, (s) => {
      s.health = health;
      s.providers = providers;
      s.lastGood = lastGood;
    });
  }

  async audit(e: Omit<AuditEvent, 'at'> & { at?: number }): Promise<void> {
    const ev: AuditEvent = { at: e.at ?? this.now(), ...e } as AuditEvent;
    try {
      await this.store.append(ev);
    } catch (err) {
      this.log(`could not write the audit log: ${(err as Error).message}`);
    }
    // listeners hear of an event only once it is durable: what they show is never lost
    this.emit('audit', ev);
  }

  /** Which zone each served name is in (for status output). */
  zoneOf(name: string): string {
    return zoneOf(this.spec, name);
  }
}

/** Runs passes one at a time; requests arriving during a pass are merged into ONE next pass (coalescing). */
class ProviderWorker {
  private current: Promise<Pass> | undefined;
  private next: Promise<Pass> | undefined;
  constructor(private readonly pass: () => Promise<Pass>) {}

  request(): Promise<Pass> {
    if (!this.current) {
      this.current = this.pass().finally(() => { this.current = undefined; });
      return this.current;
    }
    if (!this.next) {
      this.next = this.current.catch(() => undefined).then(() => {
        this.next = undefined;
        return this.request();
      });
    }
    return this.next;
  }

  async idle(): Promise<void> {
    await this.next?.catch(() => undefined);
    await this.current?.catch(() => undefined);
  }
}
type Pass = { reports: ZoneReport[]; verify: ServerVerdict[] };
