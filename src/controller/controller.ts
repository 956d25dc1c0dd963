import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { AuditEvent } from '../domain/audit.ts';
import { redactDeep, redactText } from '../domain/redact-url.ts';
import { zoneOf, type FleetSpec } from '../domain/fleet-spec.ts';
import { unknownHealth, type Health } from '../domain/health.ts';
import { changedAddresses, isProvisioned, withInventory, type Inventory } from '../domain/inventory.ts';
import { activeOverrides, type Override } from '../domain/override.ts';
import { CONTROLLER_SAVE_INTERVAL_MS, type State } from '../domain/state.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import type { DesiredState } from '../planner/desired-records.ts';
import { DnsProbe } from '../probes/dns-probe.ts';
import { HttpProbe } from '../probes/http-probe.ts';
import { TcpProbe } from '../probes/tcp-probe.ts';
import type { Probe, ProbeResult } from '../probes/probe-result.ts';
import { SoloCluster, type Cluster } from '../state/cluster.ts';
import type { StateStore } from '../state/state-store.ts';
import { updateState } from '../state/state-store.ts';
import { checkCanaries, type CanaryResult } from './canaries.ts';
import { lastGoodAt, recordDecision, settleMsFor, type LastGood } from './last-good.ts';
import { decide, type Decision, type VantageView } from './decide.ts';
import { Observer, type Deplatformed, type Flip } from './observe.ts';
import { ProviderWorker, type Pass } from './provider-worker.ts';
import { applyEvent, convergeMs, verifyEvent, verifyProvider } from './provider-pass.ts';
import type { ControllerCommands, ControllerView, SubmittedOverride } from './controller-view.ts';
import { runOverrideCommand, type OverrideCommand } from './overrides.ts';
import { reconcileAll, type ZoneReport } from './reconcile.ts';
import type { ReconcileOutcome } from './reconcile-outcome.ts';
import type { DnsQueryFn, ServerVerdict } from './verify.ts';
import { WriteBudget } from './write-budget.ts';

// the oldest leadership proof a DNS write may go out on: a list a little slower than usual still reuses it, and a
// deposed leader's write is never more than this behind the moment etcd last said it led
const FENCE_AHEAD_MS = 250;

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
  /** Source address of this vantage's http and tcp probes (default: the kernel's choice). */
  probeFrom?: string;
  /** This controller's point of view (default: the host name). */
  vantage?: string;
  /** The replicas of this stack and who may write (default: this one alone, always the leader). */
  cluster?: Cluster;
}

export type { ReconcileOutcome } from './reconcile-outcome.ts';

/**
 * The health-check controller: probes every mirror on its own jittered schedule, decides with hysteresis, and on
 * every change of the serving set reconciles all providers in parallel, then verifies every authoritative server.
 * Writes are coalesced: a decision arriving while a reconcile runs is applied right after it, with the latest data.
 *
 * Verification runs beside the provider's worker, not inside it: a server that is slow to answer (or a zone where
 * a foreign record sits) never delays the next decision; a newer write supersedes the verification of an older one.
 *
 * On start, nothing is published until every mirror has been probed afresh (saved health may predate the last
 * decision of a killed daemon). A store that fails (disk full, read-only, etcd away) never stops the controller:
 * it keeps deciding and writing DNS from memory, alerts once per outage and retries the save with backoff.
 *
 * Events: 'probe' (ProbeResult), 'flip' ({mirror, state}), 'reconcile' (ReconcileOutcome), 'audit' (AuditEvent),
 * 'canaries' (CanaryResult), 'alert' (AuditEvent that must alert even when it could not be audited).
 */
export class Controller extends EventEmitter implements ControllerView, ControllerCommands {
  spec: FleetSpec;
  readonly store: StateStore;
  readonly drivers: DnsDriver[];
  readonly vantage: string;
  readonly cluster: Cluster;
  /** Observe: this vantage's probe loops and verdicts. */
  private readonly observer: Observer;
  /** Why the last decision failed static (for status and to audit each transition once). */
  failStatic: string | undefined;
  overrides: Override[] = [];
  lastServing: string[] | undefined;
  cutOff = false;
  lastCanaries: CanaryResult | undefined;
  lastOutcome: ReconcileOutcome | undefined;
  providerStatus: State['providers'] = {};
  /** The mirror inventory as last read from the store (addresses of the hosts Pulumi created). */
  inventory: Inventory | undefined;
  private readonly query: DnsQueryFn;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly budgets = new Map<string, WriteBudget>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private readonly probes: Record<'http' | 'tcp' | 'dns', Probe>;
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
  /** The fail-open fallback: the set that served before an outage began (see last-good.ts). */
  private lastGoodTrack: LastGood = { good: [] };
  /** Mirrors whose deplatforming was audited in the current down period (see auditDeplatformed). */
  private readonly deplatformedAudited = new Set<string>();
  /** The not-provisioned list this replica last audited (see auditUnprovisioned). */
  private unprovisionedAudited: string | undefined;
  /** Mirrors not yet probed since start; while any is left, nothing is published. undefined once all were. */
  private warming: Set<string> | undefined;
  /** What the warming hold is waiting since (start, or this vantage's lease lapsing). */
  private warmingSince = 'start';
  /** The verification in flight per provider; a newer write aborts it. */
  private readonly verifying = new Map<string, AbortController>();
  /** Conflicts (foreign RRsets at names we publish) last reported per provider, to report each once. */
  private readonly reportedConflicts = new Map<string, string>();
  /** Unattributable addresses last reported kept per provider, to report each once. */
  private readonly reportedKept = new Map<string, string>();
  /** Flips heard this event-loop turn and not yet decided on (see flipped): the first one's reason, and how many. */
  private flipsPending: { reason: string; count: number; immediate: NodeJS.Immediate } | undefined;
  /** The state store failed and the latest state is held in memory only; the save is being retried. */
  private storeFailing: { since: number; attempts: number; timer?: NodeJS.Timeout } | undefined;

  constructor(private readonly o: ControllerOptions) {
    super();
    this.spec = o.spec;
    this.store = o.store;
    this.drivers = o.drivers;
    // an injected probe (tests) serves every kind
    this.probes = o.probe ? { http: o.probe, tcp: o.probe, dns: o.probe } : { http: new HttpProbe({ localAddress: o.probeFrom }), tcp: new TcpProbe({ localAddress: o.probeFrom }), dns: new DnsProbe() };
    this.query = o.query;
    this.now = o.now ?? Date.now;
    const sink = o.log ?? (() => {});
    // errors quoted in log lines come from SDKs, fetch and etcd: never let a URL's userinfo or token through
    this.log = (line: string) => sink(redactText(line));
    for (const d of o.drivers) this.budgets.set(d.name, new WriteBudget(d.capabilities.writeBudget.requests, d.capabilities.writeBudget.perMs));
    this.vantage = o.vantage ?? o.cluster?.vantage ?? hostname();
    this.cluster = o.cluster ?? new SoloCluster(this.vantage);
    this.observer = new Observer(o.spec, { probes: this.probes, now: this.now, blind: () => this.cutOff, signal: this.abort.signal });
    this.observer.on('probe', (r: ProbeResult) => this.emit('probe', r));
    this.observer.on('deplatformed', (d: Deplatformed) => this.deplatformedSign(d));
    this.observer.on('flip', (f: Flip) => this.flipped(f));
    // another vantage's verdicts, a lease that expired, etcd lost or back: decide again
    this.cluster.on('change', () => {
      if (this.stopped) return;
      this.redecide('vantages changed');
      this.auditDeplatformed();
    });
    // a new leader converges every provider at once, whatever the last leader managed to write
    this.cluster.on('elected', () => {
      if (this.stopped) return;
      this.reconcileSoon('elected leader');
      void this.auditUnprovisioned();
      this.auditDeplatformed();
    });
    this.cluster.on('deposed', () => this.log(`vantage ${this.vantage}: no longer the leader; writing nothing`));
    // this vantage stopped counting (paused past its lease, or etcd lost): what it holds may predate what it did not
    // see, so when it counts again its verdicts come from probes made after, and as at start it writes nothing before
    this.cluster.on('lapsed', () => {
      if (this.stopped) return;
      this.observer.forget('verdicts forgotten: the lease of this vantage lapsed; probing afresh');
      const probed = this.observer.provisioned();
      this.warming = probed.length > 0 ? new Set(probed) : undefined;
      this.warmingSince = 'its lease lapsed';
      this.log(`vantage ${this.vantage}: lease lapsed; every verdict forgotten until the mirrors are probed afresh`);
      void this.cluster.publish(this.health);
    });
    // a probe result ends the start-up hold of its mirror once its health is known afresh
    this.on('probe', (r: ProbeResult) => { if (this.warming) queueMicrotask(() => this.warmedUp(r)); });
  }

  /** This vantage's own verdicts (observe); what is decided on is the quorum of every live vantage (decision()). */
  get health(): Health {
    return this.observer.health;
  }

  set health(v: Health) {
    this.observer.health = v;
  }

  /** The fail-open fallback now: the latest decision that stood long enough (see last-good.ts). */
  get lastGood(): string[] {
    return lastGoodAt(this.lastGoodTrack, this.now(), settleMsFor(this.spec));
  }

  set lastGood(v: string[]) {
    this.lastGoodTrack = { good: [...v] };
  }

  /** The audit log, for readers (ControllerView). */
  get auditLog(): Pick<StateStore, 'audit' | 'auditPage'> {
    return this.store;
  }

  isLeader(): boolean {
    return this.cluster.isLeader();
  }

  leader(): ReturnType<Cluster['leader']> {
    return this.cluster.leader();
  }

  /**
   * A responder's override (the HTTP API), through the command path the CLI uses (runOverrideCommand): checked,
   * audited and saved before it takes effect; then held at once (the store is re-read only every overridePollMs)
   * and decided on.
   */
  async submitOverride(cmd: OverrideCommand, o: { auditData?: Record<string, unknown>; now?: number } = {}): Promise<SubmittedOverride> {
    const now = o.now ?? this.now();
    const outcome = await runOverrideCommand({
      store: this.store,
      spec: this.spec,
      // audited before it takes effect; listeners hear of it only once it is durable
      audit: (e) => this.audit(e, { strict: true }),
      // judge "last serving mirror" by the live health, not the copy saved every few seconds
      live: () => ({ health: this.health, lastGood: this.lastGood }),
      auditData: o.auditData,
      now: () => now,
    }, cmd);
    this.overrides = activeOverrides(outcome.saved.overrides, now);
    const reconcile = outcome.changed ? this.requestReconcile(`${cmd.kind} ${cmd.mirror} by ${cmd.author}`) : undefined;
    return { outcome, reconcile };
  }

  /** True while the state store fails and state lives in memory only. */
  get storeDegraded(): boolean {
    return this.storeFailing !== undefined;
  }

  /** Loads state, publishes once, and starts the probe, canary and override loops. */
  async start(): Promise<void> {
    const st = await this.store.load();
    this.health = structuredClone(st.health);
    this.overrides = st.overrides;
    this.lastGood = st.lastGood;
    this.providerStatus = st.providers;
    this.inventory = st.inventory;
    this.observer.setInventory(st.inventory);
    // a deplatformed mirror saved as such was audited when it went down: not again at every start
    for (const [m, h] of Object.entries(st.health)) if (h.state === 'down' && h.deplatformed !== undefined) this.deplatformedAudited.add(m);
    for (const m of this.spec.mirrors) this.health[m.name] ??= unknownHealth();
    // only mirrors with an address are probed, so only they hold the first publication back
    const probed = this.observer.provisioned();
    this.warming = probed.length > 0 ? new Set(probed) : undefined;
    this.warmingSince = 'start';
    this.stopped = false;
    this.startedOnce = true;
    await this.cluster.start();
    await this.audit({ kind: 'daemon', message: `controller started for stack ${this.spec.stack} (${this.spec.mirrors.length} mirrors, ${this.drivers.length} providers${this.cluster.kind === 'etcd' ? `, vantage ${this.vantage}` : ''})` });
    await this.auditUnprovisioned();
    if (this.spec.canaries.length > 0) await this.runCanaries();
    this.observer.start();
    this.every(this.spec.health.intervalMs, () => this.runCanaries(), this.spec.canaries.length > 0);
    this.every(this.o.overridePollMs ?? 500, () => this.pollOverrides(), true);
    this.every(this.o.resyncMs ?? 10_000, () => this.requestReconcile('resync'), true);
    this.every(CONTROLLER_SAVE_INTERVAL_MS, () => this.saveState(), true);
    // with mirrors, the first decision waits for their first probes (warmedUp)
    if (!this.warming) await this.requestReconcile('startup');
  }

  /**
   * Stops the loops, lets the reconcile in flight finish, saves state. A controller that is not running (never
   * started, or stopped already) saves nothing and audits nothing: it holds no state of its own to save.
   */
  async stop(): Promise<void> {
    if (this.stopped) {
      await Promise.all([...new Set(Object.values(this.probes))].map((p) => p.close?.()));
      await this.cluster.stop(); // its client holds connections even when it never started
      return;
    }
    this.stopped = true;
    this.observer.stop();
    if (this.flipsPending) clearImmediate(this.flipsPending.immediate);
    this.flipsPending = undefined;
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
    await this.persist().catch((e) => this.log(`could not save state on stop: ${(e as Error)?.message ?? String(e)}`));
    await Promise.all([...new Set(Object.values(this.probes))].map((p) => p.close?.()));
    await this.audit({ kind: 'daemon', message: 'controller stopped' });
    // resigning hands the leadership over at once instead of after the lease
    await this.cluster.stop();
  }

  /** Swaps the spec (SIGHUP). Mirrors new to the spec start unknown; removed ones are forgotten. */
  async reload(spec: FleetSpec): Promise<void> {
    this.spec = spec;
    this.observer.reload(spec);
    this.restartLoops();
    await this.audit({ kind: 'daemon', message: 'spec reloaded' });
    await this.requestReconcile('spec reloaded');
  }

  /** A new generation of the controller's loops (new spec): loops of the old one end, even those in flight now. The probe loops are the observer's. */
  private restartLoops(): void {
    if (this.stopped) return;
    const spec = this.spec;
    this.generation++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.retryTimer = undefined;
    this.every(spec.health.intervalMs, () => this.runCanaries(), spec.canaries.length > 0);
    this.every(this.o.overridePollMs ?? 500, () => this.pollOverrides(), true);
    this.every(this.o.resyncMs ?? 10_000, () => this.requestReconcile('resync'), true);
    this.every(CONTROLLER_SAVE_INTERVAL_MS, () => this.saveState(), true);
    if (this.warming) {
      this.warming = new Set([...this.warming].filter((n) => this.observer.has(n)));
      if (this.warming.size === 0) this.warming = undefined;
    }
  }

  /**
   * A changed inventory (read from the store): mirrors whose address changed (a replacement host, a first address)
   * are probed at the new one and start down, so they are published only after `rise` good probes there.
   */
  private async inventoryChanged(next: Inventory | undefined): Promise<void> {
    const moved = changedAddresses(this.spec, this.inventory, next);
    this.inventory = next;
    if (moved.length === 0) return;
    const now = this.now();
    const resolved = withInventory(this.spec, next);
    const where = (n: string) => {
      const m = resolved.mirrors.find((x) => x.name === n)!;
      return isProvisioned(m) ? [m.ipv4, m.ipv6].filter(Boolean).join(' ') : 'no known address (not provisioned)';
    };
    for (const n of moved) {
      this.health[n] = { state: 'down', successStreak: 0, failureStreak: 0, since: now, recentFlips: [], lastReason: `new address in the inventory (${where(n)}): waiting for rise good probes`, awaitingRise: true };
      this.warming?.delete(n);
    }
    if (this.warming?.size === 0) this.warming = undefined;
    // observe: probe the new addresses from now on (results about the old ones still in flight are dropped)
    this.observer.setInventory(next);
    void this.cluster.publish(this.health);
    // every replica reads the same new inventory; one entry says so: the leader's
    if (this.cluster.isLeader()) await this.audit({ kind: 'inventory', message: `inventory changed: ${moved.map((n) => `${n} → ${where(n)}`).join('; ')}; published again only after passing rise probes there`, data: { mirrors: moved } });
    this.reconcileSoon('inventory changed');
  }

  /** One probe of every mirror with a known address, in parallel (for `flotilla check`). Does not change health. */
  async probeOnce(): Promise<ProbeResult[]> {
    return this.observer.probeOnce();
  }

  /** The desired state now (no I/O). */
  desired(): DesiredState {
    return this.decision().desired;
  }

  /** Decide (pure, decide.ts) on what every live vantage says now, this one's freshest verdicts included. */
  decision(): Decision {
    return decide({ spec: this.spec, vantages: this.vantageViews(), self: this.vantage, overrides: this.overrides, now: this.now(), lastGood: this.lastGood, inventory: this.inventory, blocked: this.blocked() });
  }

  /** Every vantage the cluster knows, with this one's verdicts as held in memory (fresher than what was published). */
  vantageViews(): VantageView[] {
    const others = this.cluster.vantages().filter((v) => v.name !== this.vantage);
    const own: VantageView = { name: this.vantage, live: this.cluster.problem() === undefined, at: this.now(), health: this.health };
    return [own, ...others].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Why this controller must change nothing whatever the verdicts say, if it must. */
  private blocked(): string | undefined {
    if (this.cutOff) return `the controller looks cut off (every canary failed)`;
    return this.cluster.problem();
  }

  /**
   * This vantage's verdict on a mirror flipped: publish it, audit it (an observation: tagged with this vantage), and
   * decide again once the event-loop turn is over (decideOnFlips).
   */
  private flipped(f: Flip): void {
    this.emit('flip', f);
    const sign = f.state === 'down' ? this.health[f.mirror]?.deplatformed : undefined;
    // alone, a down with a deplatforming sign is audited as 'deplatformed' instead (auditDeplatformed)
    if (sign === undefined || this.cluster.kind !== 'solo') void this.audit({ kind: 'flip', message: `${f.mirror} is ${f.state}: ${f.reason}`, data: { mirror: f.mirror, state: f.state, ...(sign === undefined ? {} : { deplatformed: sign }) } });
    void this.cluster.publish(this.health);
    if (this.flipsPending) this.flipsPending.count++;
    else this.flipsPending = { reason: `${f.mirror} ${f.state}`, count: 1, immediate: setImmediate(() => this.decideOnFlips()) };
  }

  /**
   * The flips of one event-loop turn, decided on together: ONE decision (O(mirrors)) for all of them, not three per
   * flip. At start every mirror flips up within a rise or two; at 5,000 mirrors three decisions per flip (~15,000
   * decisions of several ms each) starved the probe loop into timeouts, more flips and a collapse. A single flip is
   * decided on at the end of its turn (setImmediate), as soon as before for failover.
   */
  private decideOnFlips(): void {
    const pending = this.flipsPending;
    this.flipsPending = undefined;
    if (!pending || this.stopped) return;
    const reason = pending.count > 1 ? `${pending.reason} and ${pending.count - 1} more flip(s)` : pending.reason;
    const d = this.decision();
    // entering or leaving fail open is a decision of its own even when the serving set stays the same
    if (d.desired.failOpen !== this.failingOpen && this.lastDecided !== undefined && d.desired.serving.join(',') === this.lastDecided.join(',')) this.reconcileSoon(d.desired.failOpen ? 'every mirror down' : 'a mirror is back');
    this.redecide(reason, d);
    this.auditDeplatformed(d);
  }

  /** This vantage saw a deplatforming sign on a mirror it holds down (before the flip, when it flips). */
  private deplatformedSign(_d: Deplatformed): void {
    this.auditDeplatformed();
  }

  /**
   * A distinct kind (and runbook): the host took the site down on purpose; it leaves the answer like down. Shared
   * state, so one entry per down period for the whole cluster: written by the leader only, when the decision holds
   * the mirror down and a live vantage reports the sign. (A leadership change may repeat it once.)
   */
  private auditDeplatformed(decision?: Decision): void {
    if (this.stopped || !this.cluster.isLeader()) return;
    const views = this.vantageViews().filter((v) => v.live);
    const decided = (decision ?? this.decision()).health;
    for (const m of this.spec.mirrors) {
      if (decided[m.name]?.state !== 'down') {
        this.deplatformedAudited.delete(m.name);
        continue;
      }
      if (this.deplatformedAudited.has(m.name)) continue;
      const seen = views.filter((v) => v.health[m.name]?.state === 'down' && v.health[m.name]?.deplatformed !== undefined);
      if (seen.length === 0) continue;
      const sign = (seen.find((v) => v.name === this.vantage) ?? seen[0]).health[m.name]!.deplatformed!;
      this.deplatformedAudited.add(m.name);
      const seenBy = this.cluster.kind === 'solo' ? {} : { seenBy: seen.map((v) => v.name) };
      void this.audit({ kind: 'deplatformed', message: `${m.name} is deplatformed: ${sign}`, data: { mirror: m.name, state: 'down', sign, ...seenBy } });
    }
  }

  /**
   * The mirrors without a known address, audited once by the replica that leads (alone: at start; in a cluster: when
   * elected, as the list may have changed since the last leader said it).
   */
  private async auditUnprovisioned(): Promise<void> {
    if (!this.cluster.isLeader()) return;
    const unprovisioned = this.spec.mirrors.filter((m) => !this.observer.has(m.name)).map((m) => m.name);
    const key = unprovisioned.join(',');
    if (unprovisioned.length === 0 || this.unprovisionedAudited === key) return;
    this.unprovisionedAudited = key;
    await this.audit({ kind: 'inventory', message: `not provisioned (no known address; not probed, not published): ${unprovisioned.join(', ')}`, data: { unprovisioned } });
  }

  /** Reconciles when the decision (now, or the one given) differs from the last one acted on (or fail static begins or ends). */
  private redecide(reason: string, d: Decision = this.decision()): void {
    const staticChanged = (d.failStatic !== undefined) !== (this.failStatic !== undefined);
    if (staticChanged || this.lastDecided === undefined || d.desired.serving.join(',') !== this.lastDecided.join(',')) this.reconcileSoon(reason);
  }

  /**
   * Decides now and asks every provider's worker to converge to the decision. Each provider has its own worker that
   * coalesces requests (one write in flight per provider, the latest decision next), so a slow or dead provider never
   * delays the others. Resolves when every provider has finished a pass covering this decision and its verification.
   * Never rejects: whatever fails (a store, a bug in a pass) is logged and reported in the outcome, and the daemon
   * keeps serving.
   */
  async requestReconcile(reason: string): Promise<ReconcileOutcome> {
    const decidedAt = this.now();
    try {
      return await this.decideAndAct(reason, decidedAt);
    } catch (e) {
      const why = `reconcile (${reason}) failed: ${(e as Error)?.message ?? String(e)}`;
      this.log(why);
      return { reason, decidedAt, desired: { serving: this.lastDecided ?? [], failOpen: this.failingOpen, degraded: false, notes: [] }, skipped: why, reports: [], verify: [] };
    }
  }

  private async decideAndAct(reason: string, decidedAt: number): Promise<ReconcileOutcome> {
    if (this.stopped && this.startedOnce) {
      return { reason, decidedAt, desired: { serving: this.lastDecided ?? [], failOpen: false, degraded: false, notes: [] }, skipped: 'controller stopped', reports: [], verify: [] };
    }
    if (this.warming) {
      // saved health may be older than the last decision of a killed daemon: publish nothing before fresh probes
      return { reason, decidedAt, desired: { serving: this.lastDecided ?? [], failOpen: false, degraded: false, notes: [] }, skipped: `waiting for the first probe of ${[...this.warming].join(', ')} since ${this.warmingSince}`, reports: [], verify: [] };
    }
    const decision = this.decision();
    const desired = decision.desired;
    const summary = { serving: desired.serving, failOpen: desired.failOpen, degraded: desired.degraded, notes: desired.notes };
    const wasStatic = this.failStatic;
    this.failStatic = decision.failStatic;
    if (decision.failStatic) {
      const outcome: ReconcileOutcome = { reason, decidedAt, desired: summary, skipped: `fail static: ${decision.failStatic}; changing nothing`, reports: [], verify: [] };
      // the canaries' transition is audited by runCanaries; a cluster's here, once per reason; every skipped pass is not
      if (!this.cutOff && wasStatic !== decision.failStatic) await this.audit({ kind: 'fail-static', message: `${decision.failStatic}: changing nothing until it is resolved`, data: { vantage: this.vantage } });
      this.emit('reconcile', outcome);
      return outcome;
    }
    if (wasStatic && !this.cutOff && this.cluster.kind !== 'solo') await this.audit({ kind: 'daemon', message: `fail static over (was: ${wasStatic}): resuming` });
    if (!this.cluster.isLeader()) {
      const l = this.cluster.leader();
      const outcome: ReconcileOutcome = { reason, decidedAt, desired: summary, skipped: `follower: vantage ${this.vantage} observes; ${l ? `vantage ${l.vantage} leads` : 'no leader yet'}`, reports: [], verify: [] };
      this.emit('reconcile', outcome);
      return outcome;
    }
    const changed = this.lastDecided === undefined || this.lastDecided.join(',') !== desired.serving.join(',');
    const enteringFailOpen = desired.failOpen && !this.failingOpen;
    // set before any await: concurrent requests must not audit one transition twice
    this.failingOpen = desired.failOpen;
    if (changed) {
      this.lastDecided = desired.serving;
      this.decisionAt = decidedAt;
      this.lastGoodTrack = recordDecision(this.lastGoodTrack, desired.serving, desired.failOpen, decidedAt, settleMsFor(this.spec));
    }
    // audited beside the write, not before it: a store that hangs (etcd paused, a stalled disk) must not delay failover
    const audits: Promise<boolean>[] = [];
    if (enteringFailOpen) audits.push(this.audit({ kind: 'fail-open', message: desired.notes.join('; '), data: { serving: desired.serving } }));
    if (changed) audits.push(this.audit({ kind: 'decision', message: `serve ${desired.serving.join(', ')} (${reason})`, data: { ...summary, reason } }));
    const passes = await Promise.all(this.drivers.map((d) => this.worker(d).request()));
    await Promise.all(audits);
    const reports = passes.flatMap((p) => p.reports);
    const verify = (await Promise.all(passes.map((p) => p.verify))).flat();
    if (reports.every((r) => r.ok)) this.lastServing = desired.serving;
    if (changed) await this.saveState();
    const outcome: ReconcileOutcome = { reason, decidedAt, desired: summary, reports, verify, convergeMs: convergeMs(verify) };
    this.lastOutcome = outcome;
    this.emit('reconcile', outcome);
    return outcome;
  }

  /** A probe result ends its mirror's start-up hold once its health is known afresh; the last one publishes. */
  private warmedUp(r: ProbeResult): void {
    if (!this.warming || this.stopped) return;
    // a success confirms what we hold; a failure confirms only a mirror already down (else hysteresis must decide)
    if (r.ok || this.health[r.mirror]?.state === 'down') this.warming.delete(r.mirror);
    if (this.warming.size > 0) return;
    this.warming = undefined;
    this.reconcileSoon(`every mirror probed since ${this.warmingSince}`);
  }

  /** Starts a reconcile without waiting for it (requestReconcile never rejects; the catch is a last resort). */
  private reconcileSoon(reason: string): void {
    this.requestReconcile(reason).catch((e) => this.log(`reconcile (${reason}) failed: ${(e as Error)?.message ?? String(e)}`));
  }

  /** Tracks a task stop() must wait for; it never rejects (requestReconcile and saveState do not). */
  private inBackground(p: Promise<unknown>): void {
    const task = p.catch((e) => this.log(`background task failed: ${(e as Error)?.message ?? String(e)}`));
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  /**
   * Saves health, provider status and the fail-open fallback. A failing store never stops failover: the state
   * stays in memory, the first failure of an outage is alerted (and audited if the audit log still takes it), the
   * save is retried with backoff (1 s doubling to 30 s) and the recovery is audited. Never rejects.
   */
  private async saveState(): Promise<void> {
    try {
      await this.persist();
    } catch (e) {
      // deposed between the check and the save: the new leader saves; that is no store fault
      if ((e as { code?: string })?.code === 'NOT_LEADER') { this.log((e as Error).message); return; }
      this.storeFault(e);
      return;
    }
    const was = this.storeFailing;
    if (!was) return;
    clearTimeout(was.timer);
    if (was.timer) this.timers.delete(was.timer);
    this.storeFailing = undefined;
    await this.audit({ kind: 'store', message: `state saved again after ${was.attempts} failed attempt(s) over ${Math.round((this.now() - was.since) / 1000)}s`, data: { recovered: true } }).catch(() => undefined);
  }

  private storeFault(e: unknown): void {
    const msg = (e as Error)?.message ?? String(e);
    const first = !this.storeFailing;
    const f = (this.storeFailing ??= { since: this.now(), attempts: 0 });
    f.attempts++;
    if (first) {
      const ev: AuditEvent = { at: this.now(), kind: 'store-error', message: redactText(`the state store failed: ${msg}; serving and failing over from memory, retrying the save`) };
      // alerted whether or not the audit log can take it (it may sit on the same failing disk)
      this.emit('alert', ev);
      void this.audit(ev).catch(() => undefined);
    }
    if (f.timer || this.stopped) return;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(5, f.attempts - 1));
    const t = setTimeout(() => {
      this.timers.delete(t);
      f.timer = undefined;
      if (!this.stopped) this.inBackground(this.saveState());
    }, delay);
    f.timer = t;
    this.timers.add(t);
  }

  private worker(d: DnsDriver): ProviderWorker {
    let w = this.workers.get(d.name);
    if (!w) {
      w = new ProviderWorker(() => this.providerPass(d));
      this.workers.set(d.name, w);
    }
    return w;
  }

  /**
   * One pass for one provider: list → plan → apply the LATEST decision. Verification of its servers starts when
   * the write has finished and runs beside the worker (the returned `verify`), so the next decision never waits
   * for it; only what was written is verified (an RRset held by a foreign record is reported, not awaited).
   */
  private async providerPass(d: DnsDriver): Promise<Pass> {
    const desired = this.desired();
    const decidedAt = this.decisionAt ?? this.now();
    const reports = await reconcileAll({
      drivers: [d],
      zones: desired.zones,
      ownerId: this.spec.policy.ownerId,
      maxRemoveShare: this.spec.policy.maxRemoveShare,
      attribution: desired,
      budgets: this.budgets,
      signal: this.abort.signal,
      // fencing: etcd must still hold the leader key this controller won with, asked beside the list and at most
      // FENCE_AHEAD_MS before each write (a slower list asks again)
      beforeWrite: () => this.cluster.fence(),
      fenceAheadMs: FENCE_AHEAD_MS,
    });
    if (reports.some((r) => r.errorCode === 'NOT_LEADER')) {
      // deposed: the new leader owns the providers now; nothing was written, nothing to retry
      this.log(`${d.name}: ${reports.find((r) => r.errorCode === 'NOT_LEADER')!.error}`);
      return { reports, verify: Promise.resolve([]) };
    }
    const st = (this.providerStatus[d.name] ??= {});
    const failedBefore = this.failures.get(d.name) ?? 0;
    if (reports.every((r) => r.ok)) {
      this.failures.delete(d.name);
      if (failedBefore > 0) await this.fencedAudit({ kind: 'apply', message: `${d.name}: reachable again after ${failedBefore} failed pass(es)`, data: { provider: d.name, recovered: true } });
    } else this.failures.set(d.name, failedBefore + 1);
    for (const r of reports) {
      if (r.ok) {
        st.records = { ...(st.records ?? {}), [r.zone]: r.records ?? [] };
        st.lastError = undefined;
        st.lastErrorCode = undefined;
        const ev = applyEvent(r);
        if (ev) {
          st.lastAppliedAt = this.now();
          await this.audit(ev);
        }
      } else {
        // an outage is audited when it starts or changes, not on every retry
        if (st.lastError !== r.error) await this.fencedAudit(applyEvent(r)!);
        st.lastError = r.error;
        st.lastErrorCode = r.errorCode;
      }
    }
    await this.reportConflicts(d.name, reports);
    await this.reportKept(d.name, reports);
    const none = Promise.resolve<ServerVerdict[]>([]);
    if (reports.some((r) => !r.ok)) {
      if (!this.stopped) this.retrySoon();
      return { reports, verify: none };
    }
    const want = desired.serving.join(',');
    if (reports.every((r) => r.applied === 0) && st.verifiedServing === want) return { reports, verify: none };
    // a newer write makes the answer an older verification waits for impossible: abandon it
    this.verifying.get(d.name)?.abort();
    const ac = new AbortController();
    this.verifying.set(d.name, ac);
    const verify = this.verifyProvider(d, desired, reports, decidedAt, ac.signal)
      .catch((e) => { this.log(`verify ${d.name} failed: ${(e as Error)?.message ?? String(e)}`); return [] as ServerVerdict[]; })
      .finally(() => { if (this.verifying.get(d.name) === ac) this.verifying.delete(d.name); });
    return { reports, verify };
  }

  /** Verifies one provider's servers after its write, and audits the verdict (not when a newer write superseded it). */
  private async verifyProvider(d: DnsDriver, desired: DesiredState, reports: ZoneReport[], decidedAt: number, signal: AbortSignal): Promise<ServerVerdict[]> {
    const st = (this.providerStatus[d.name] ??= {});
    const verify = await verifyProvider({ driver: d, zones: desired.zones, reports, query: this.query, decidedAt, deadlineMs: this.o.verifyDeadlineMs ?? 10_000, now: this.now, signal: AbortSignal.any([signal, this.abort.signal]) });
    if (verify.some((v) => v.superseded)) return verify;
    const ms = convergeMs(verify);
    if (ms !== undefined) Object.assign(st, { lastConvergedAt: this.now(), lastConvergeMs: Math.round(ms), verifiedServing: desired.serving.join(',') });
    await this.audit(verifyEvent(d.name, desired.serving, verify, reports));
    return verify;
  }

  /**
   * Reports a foreign RRset at a name we publish once per provider when it appears or changes (status, audit and
   * so alert), and once more when it is gone. The planner leaves such RRsets alone.
   */
  private async reportConflicts(provider: string, reports: ZoneReport[]): Promise<void> {
    const st = (this.providerStatus[provider] ??= {});
    const conflicts = reports.flatMap((r) => (r.plan?.conflicts ?? []).map((c) => `${r.zone}: ${c.reason}`)).sort();
    if (reports.some((r) => !r.ok && !r.plan)) return; // not listed this time: nothing new is known
    st.conflicts = conflicts.length > 0 ? conflicts : undefined;
    const key = conflicts.join('\n');
    if ((this.reportedConflicts.get(provider) ?? '') === key) return;
    this.reportedConflicts.set(provider, key);
    if (conflicts.length > 0) await this.audit({ kind: 'conflict', message: `${provider}: ${conflicts.join('; ')}: that name is neither written nor verified there until the record is removed or marked as ours`, data: { provider, conflicts } });
    else await this.audit({ kind: 'conflict', message: `${provider}: no foreign record left at a published name`, data: { provider, conflicts: [], resolved: true } });
  }

  /** Reports once per provider (status, audit) the addresses kept because no known mirror has them and a mirror is not provisioned. */
  private async reportKept(provider: string, reports: ZoneReport[]): Promise<void> {
    if (reports.some((r) => !r.plan)) return; // not listed this time: nothing new is known
    const st = (this.providerStatus[provider] ??= {});
    const kept = reports.flatMap((r) => (r.plan?.kept ?? []).map((k) => `${r.zone}: ${k.reason}`)).sort();
    st.unattributed = kept.length > 0 ? kept : undefined;
    const key = kept.join('\n');
    if ((this.reportedKept.get(provider) ?? '') === key) return;
    this.reportedKept.set(provider, key);
    if (kept.length > 0) await this.audit({ kind: 'inventory', message: `${provider}: ${kept.join('; ')}`, data: { provider, unattributed: kept } });
    else await this.audit({ kind: 'inventory', message: `${provider}: no unattributable address kept any more`, data: { provider, unattributed: [], resolved: true } });
  }

  private retrySoon(): void {
    if (this.retryTimer) return;
    // back off while a provider stays down: 1 s, 2 s, 4 s ... 30 s
    const worst = Math.max(1, ...this.failures.values());
    const delay = Math.min(30_000, 1000 * 2 ** (worst - 1));
    const t = setTimeout(() => { this.timers.delete(t); this.retryTimer = undefined; this.reconcileSoon('retry after provider error'); }, delay);
    this.retryTimer = t;
    this.timers.add(t);
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
      if (!cut) this.reconcileSoon('canaries answer again');
    }
  }

  private async pollOverrides(): Promise<void> {
    let st: State;
    try {
      st = await this.store.load();
    } catch (e) {
      this.storeFault(e); // keep the overrides we hold
      return;
    }
    const now = this.now();
    const expired = this.overrides.filter((o) => o.expiresAt !== undefined && o.expiresAt <= now && !st.overrides.some((x) => x.id === o.id && x.expiresAt !== o.expiresAt));
    const leader = this.cluster.isLeader();
    // one writer: only the leader audits an expiry and removes it from the store
    if (leader) for (const o of expired) await this.audit({ kind: 'override-expired', message: `${o.kind} of ${o.mirror} expired (was: ${o.reason}, by ${o.author})`, data: { id: o.id } });
    this.overrides = activeOverrides(st.overrides, now);
    if (JSON.stringify(st.inventory ?? null) !== JSON.stringify(this.inventory ?? null)) await this.inventoryChanged(st.inventory);
    if (leader && expired.length > 0) await this.persistFenced((s) => { s.overrides = activeOverrides(s.overrides, now); });
    const d = this.desired();
    if (this.lastDecided !== undefined && d.serving.join(',') !== this.lastDecided.join(',')) this.reconcileSoon('overrides changed');
  }

  /**
   * Saves the decided health, provider status and fail-open fallback. One writer: with several replicas only the
   * leader saves, and every save is fenced (etcd compares the leader key's create revision in the same transaction);
   * each vantage's own verdicts live under its own key (cluster.publish), never in the shared state.
   */
  async persist(): Promise<void> {
    const health = this.cluster.kind === 'solo' ? this.health : this.decision().health;
    const providers = this.providerStatus;
    const lastGood = this.lastGood;
    await this.persistFenced((s) => {
      s.health = health;
      s.providers = providers;
      s.lastGood = lastGood;
      // responders read it to tell whether an override will be acted on (a stopped controller saves none)
      s.controller = this.stopped ? undefined : { at: this.now(), host: hostname(), pid: process.pid };
    });
  }

  private async persistFenced(mutate: (s: State) => void): Promise<void> {
    if (this.cluster.kind !== 'solo') {
      const fence = this.cluster.currentFence();
      if (!fence) return; // a follower saves nothing
      this.store.setFence?.(fence);
    }
    await updateState(this.store, mutate);
  }

  /**
   * Appends one event to the audit log, then emits it ('audit'): listeners hear only of events that are durable, so
   * what they show is never lost. A failed append is logged and resolves false; with `strict` it rejects instead
   * (for callers whose action must not take effect without its entry).
   */
  async audit(e: Omit<AuditEvent, 'at'> & { at?: number }, opts: { strict?: boolean } = {}): Promise<boolean> {
    // redacted before it is stored or emitted: messages quote SDK, fetch, etcd and canary errors
    const ev: AuditEvent = redactDeep({ at: e.at ?? this.now(), ...(this.cluster.kind === 'solo' || e.actor ? {} : { actor: `vantage ${this.vantage}` }), ...e } as AuditEvent);
    try {
      await this.store.append(ev);
    } catch (err) {
      this.log(`could not write the audit log: ${(err as Error).message}`);
      if (opts.strict) throw err;
      return false;
    }
    this.emit('audit', ev);
    return true;
  }

  /**
   * An audit entry about the providers that no fenced write preceded (an outage, a recovery): written only while
   * the fence still holds, so a deposed leader waking up reports nothing about providers it no longer owns.
   */
  private async fencedAudit(e: Omit<AuditEvent, 'at'>): Promise<void> {
    try {
      await this.cluster.fence();
    } catch (err) {
      this.log(`not audited (${(err as Error).message}): ${e.message}`);
      return;
    }
    await this.audit(e);
  }

  /** Which zone each served name is in (for status output). */
  zoneOf(name: string): string {
    return zoneOf(this.spec, name);
  }
}
