import type { FleetSpec } from '../domain/fleet-spec.ts';
import { unknownHealth, type Health, type MirrorState } from '../domain/health.ts';
import type { Inventory } from '../domain/inventory.ts';
import type { Override } from '../domain/override.ts';
import { desiredRecords, type DesiredState } from '../planner/desired-records.ts';

/** What one vantage (one controller replica) last published: its own verdicts, and whether its lease still holds. */
export interface VantageView {
  name: string;
  /** Its lease is alive (etcd) — a stale vantage's verdicts are shown but never counted. */
  live: boolean;
  /** When it last published (ms). */
  at?: number;
  health: Health;
}

export interface DecideInput {
  spec: Pick<FleetSpec, 'mirrors' | 'policy' | 'health'> & FleetSpec;
  /** Every known vantage, this one included. */
  vantages: readonly VantageView[];
  /** This controller's vantage: its verdicts lend the details (streaks, last reason) of the combined health. */
  self?: string;
  overrides: readonly Override[];
  now: number;
  lastGood?: readonly string[];
  /** Addresses of the hosts Pulumi created (State.inventory): mirrors without one are not provisioned, never served. */
  inventory?: Inventory;
  /** Why this controller must change nothing whatever the verdicts say (every canary failed, etcd lost). */
  blocked?: string;
}

export interface Decision {
  /** The combined health: a mirror is down when at least the quorum of live vantages call it down. */
  health: Health;
  desired: DesiredState;
  /** Set when nothing may be written (fail static), with why. */
  failStatic?: string;
  live: number;
}

/** How many live vantages must call a mirror down: `quorum` of them (a share), or a majority when unset. Never < 1. */
export function downNeeded(live: number, quorum?: number): number {
  if (live <= 0) return 1;
  if (quorum === undefined) return Math.floor(live / 2) + 1;
  return Math.max(1, Math.ceil(quorum * live - 1e-9));
}

/** The least number of live vantages that may decide: health.minVantages (default 1). */
export function vantagesNeeded(spec: Pick<FleetSpec, 'health'>): number {
  return spec.health.minVantages ?? 1;
}

/**
 * Quorum over the live vantages, per mirror: down when at least downNeeded() of them say down; else up when any
 * says up; else unknown. With one vantage this is exactly that vantage's health. Pure.
 */
export function quorumHealth(mirrors: readonly string[], vantages: readonly VantageView[], quorum?: number, self?: string): Health {
  const live = vantages.filter((v) => v.live);
  const base = live.find((v) => v.name === self) ?? live[0];
  const need = downNeeded(live.length, quorum);
  const out: Health = {};
  for (const m of mirrors) {
    const states = live.map((v) => v.health[m]?.state ?? 'unknown');
    const down = states.filter((s) => s === 'down').length;
    const state: MirrorState = down >= need ? 'down' : states.includes('up') ? 'up' : 'unknown';
    const own = base?.health[m] ?? unknownHealth();
    out[m] = own.state === state ? own : { ...own, state };
  }
  return out;
}

/**
 * Decide: the verdicts of the live vantages + quorum + overrides → the desired answer, and whether this controller
 * must fail static (blocked, or fewer live vantages than health.minVantages). Pure; the daemon and `flotilla apply`
 * both call it.
 */
export function decide(i: DecideInput): Decision {
  const names = i.spec.mirrors.map((m) => m.name);
  const live = i.vantages.filter((v) => v.live).length;
  const health = quorumHealth(names, i.vantages, i.spec.health.quorum, i.self);
  const desired = desiredRecords(i.spec, health, i.overrides, { now: i.now, lastGood: i.lastGood, inventory: i.inventory });
  const need = vantagesNeeded(i.spec);
  let failStatic = i.blocked;
  if (!failStatic && live < need) {
    failStatic = `only ${live} live vantage(s), health.minVantages wants ${need}: too few points of view to decide`;
  }
  return { health, desired, failStatic, live };
}
