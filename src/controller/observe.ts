import { EventEmitter } from 'node:events';
import { mirrorHealth, type FleetSpec, type MirrorSpec } from '../domain/fleet-spec.ts';
import { unknownHealth, type Health, type MirrorState } from '../domain/health.ts';
import { isProvisioned, withInventory, type Inventory } from '../domain/inventory.ts';
import { fastIntervalFor, fastRecheckAt, initialOffsets, nextDue } from '../probes/probe-schedule.ts';
import type { Probe, ProbeResult } from '../probes/probe-result.ts';
import { probeTargetFor, type ProbeTarget } from '../probes/probe-target.ts';
import { hysteresisFor, inTransition, observe } from './health-tracker.ts';

export interface ObserverOptions {
  probes: Record<'http' | 'tcp' | 'dns', Probe>;
  now: () => number;
  /** True while this vantage is blind (every canary failed): results are emitted but not counted. */
  blind: () => boolean;
  signal: AbortSignal;
}

/** A flip of this vantage's own verdict on one mirror. */
export interface Flip { mirror: string; state: MirrorState; reason: string }

/** A mirror this vantage holds down shows a deplatforming sign (the host took the site down on purpose): which. */
export interface Deplatformed { mirror: string; sign: string; flipped: boolean }

/**
 * Observe: the probe loops of ONE vantage and its rise/fall hysteresis, turning probe results into this vantage's
 * verdicts (`health`). Every replica runs one; it decides nothing and writes nothing.
 * Only mirrors with a known address (stack file or `inventory`) are probed; the others are never probed at a guess.
 * Events: 'probe' (ProbeResult, every result about a current target), 'deplatformed' (Deplatformed: a down mirror
 * with a deplatforming sign, when it goes down with one or the sign first appears; before its 'flip'), 'flip' (Flip,
 * after `health` holds the new state).
 */
export class Observer extends EventEmitter {
  health: Health = {};
  private spec: FleetSpec;
  /** The mirror inventory (addresses of the hosts Pulumi created). */
  private inventory: Inventory | undefined;
  private targets = new Map<string, ProbeTarget>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private generation = 0;
  private running = false;

  constructor(spec: FleetSpec, private readonly o: ObserverOptions) {
    super();
    this.spec = spec;
    this.buildTargets();
  }

  /** Starts one loop per mirror (from `health`, e.g. loaded state). */
  start(): void {
    for (const m of this.spec.mirrors) this.health[m.name] ??= unknownHealth();
    this.running = true;
    this.startLoops();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** A new spec: mirrors new to it start unknown, the loops of the old spec end (even those in flight). */
  reload(spec: FleetSpec): void {
    this.spec = spec;
    for (const m of spec.mirrors) this.health[m.name] ??= unknownHealth();
    this.retarget();
  }

  /**
   * A new inventory: targets are rebuilt and every loop starts afresh, so a moved mirror is probed at its new address
   * (a result of a probe of the old one still in flight is dropped). Health is the caller's to reset.
   */
  setInventory(inventory: Inventory | undefined): void {
    this.inventory = inventory;
    this.retarget();
  }

  /**
   * Forgets every verdict (this vantage stopped counting: paused past its lease, or cut off from etcd, so what it
   * holds may predate changes it did not see): every mirror starts unknown again (a mirror awaiting rise still does)
   * and every loop starts afresh; results of probes still in flight are dropped.
   */
  forget(reason: string): void {
    for (const m of this.spec.mirrors) this.health[m.name] = { ...unknownHealth(), lastReason: reason, ...(this.health[m.name]?.awaitingRise ? { awaitingRise: true } : {}) };
    this.retarget();
  }

  /** Whether the mirror is probed (it has a known address). */
  has(mirror: string): boolean {
    return this.targets.has(mirror);
  }

  /** The mirrors that are probed (those with a known address). */
  provisioned(): string[] {
    return [...this.targets.keys()];
  }

  /** One probe of every mirror with a known address, in parallel (for `flotilla check`). Does not change health. */
  probeOnce(): Promise<ProbeResult[]> {
    const byName = new Map(this.spec.mirrors.map((m) => [m.name, m] as const));
    return Promise.all([...this.targets.values()].map((t) => this.probeFor(byName.get(t.mirror)).run(t, this.o.signal)));
  }

  private retarget(): void {
    this.buildTargets();
    if (!this.running) return;
    this.generation++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.startLoops();
  }

  private probeFor(m: MirrorSpec | undefined): Probe {
    return this.o.probes[(m && mirrorHealth(this.spec, m).probe) ?? 'http'];
  }

  /** Targets of the mirrors with a known address (stack file or inventory). */
  private buildTargets(): void {
    const spec = withInventory(this.spec, this.inventory);
    this.targets = new Map(spec.mirrors.filter(isProvisioned).map((m) => [m.name, probeTargetFor(spec, m)]));
  }

  /**
   * One loop per mirror on its slot grid (probe-schedule.ts). A mirror mid-transition (failed once while serving,
   * passed once while down) is re-probed at fastInterval (after a failed probe ended, after a passed one started:
   * fastRecheckAt) until the transition completes or resets; a mirror is never probed twice at once, so results
   * arrive in order.
   */
  private startLoops(): void {
    const spec = this.spec;
    const now = this.o.now;
    const offsets = initialOffsets(spec.mirrors.length, spec.health.intervalMs);
    const start = now();
    spec.mirrors.forEach((m, i) => {
      const mh = mirrorHealth(spec, m);
      const h = hysteresisFor(mh);
      const interval = mh.intervalMs;
      const fastMs = fastIntervalFor(interval, mh.fastIntervalMs);
      // once per loop, not per probe: a lookup by name scanned every mirror (at 5,000 mirrors, 2,500 probes a second)
      const prober = this.probeFor(m);
      let due = start + offsets[i];
      let nextSlotAt = due;
      let inFlight = false;
      let fastTimer: NodeJS.Timeout | undefined;
      const gen = this.generation;
      const live = () => this.running && gen === this.generation;
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
        const startedAt = now();
        let r: ProbeResult;
        try {
          r = await prober.run(target, this.o.signal);
        } finally {
          inFlight = false;
        }
        const endedAt = now();
        if (!this.running) return;
        // the inventory moved the mirror while this probe ran: its result is about the old address
        if (this.targets.get(m.name) !== target) return;
        this.emit('probe', r);
        if (this.o.blind()) return; // blind: do not count what we cannot see
        const cur = this.health[m.name] ?? unknownHealth();
        const { next: nh, flipped } = observe(cur, { ok: r.ok, reason: r.reason, latencyMs: r.latencyMs, at: r.at, deplatformed: r.deplatformed }, h);
        this.health[m.name] = nh;
        if (nh.state === 'down' && nh.deplatformed !== undefined && (flipped || cur.deplatformed === undefined)) {
          this.emit('deplatformed', { mirror: m.name, sign: nh.deplatformed, flipped } satisfies Deplatformed);
        }
        if (flipped) this.emit('flip', { mirror: m.name, state: nh.state, reason: r.reason } satisfies Flip);
        if (!live() || !inTransition(nh, h, r.at)) return;
        const at = fastRecheckAt({ lastStart: startedAt, lastEnd: endedAt, lastOk: r.ok, fastIntervalMs: fastMs, now: now(), nextSlotAt });
        if (at === undefined) return;
        cancelFast();
        fastTimer = later(at - now(), () => { fastTimer = undefined; void probe(); });
      };
      const slot = () => {
        if (!live() || !this.targets.has(m.name)) return;
        const next = nextDue({ lastDue: due, intervalMs: interval, jitter: mh.jitter, random: Math.random, now: now() });
        due = next.due;
        nextSlotAt = next.at;
        later(next.at - now(), slot);
        cancelFast();
        void probe();
      };
      later(due - now(), slot);
    });
  }
}
