import type { AuditEvent } from '../domain/audit.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { Health } from '../domain/health.ts';
import type { Inventory } from '../domain/inventory.ts';
import type { Override } from '../domain/override.ts';
import type { State } from '../domain/state.ts';
import type { DesiredState } from '../planner/desired-records.ts';
import type { ProbeResult } from '../probes/probe-result.ts';
import type { LeaderInfo } from '../state/cluster.ts';
import type { StateStore } from '../state/state-store.ts';
import type { Decision, VantageView } from './decide.ts';
import type { Flip } from './observe.ts';
import type { OverrideCommand, OverrideOutcome } from './overrides.ts';
import type { ReconcileOutcome } from './reconcile-outcome.ts';

/** The events a view's listeners hear, with their payloads. */
export interface ControllerEvents {
  /** Every probe result of this vantage. */
  probe: [ProbeResult];
  /** This vantage's verdict on a mirror flipped. */
  flip: [Flip];
  /** A decide-and-act round ended (also when skipped: follower, fail static). */
  reconcile: [ReconcileOutcome];
  /** An audit event, once it is durable. */
  audit: [AuditEvent];
}

/** The audit log, for reading only. */
export type AuditLogReader = Pick<StateStore, 'audit' | 'auditPage'>;

/**
 * A running controller as those who only watch it see it (the HTTP server: status, /metrics, /healthz, events).
 * Contract: nothing here changes the controller. Properties are read-only snapshots of its state now; methods
 * compute from that state (decision() is the pure decide() on it) or read the audit log; on/off only add and remove
 * listeners. The Controller implements it; a plain object can stand in for it (tests).
 */
export interface ControllerView {
  readonly spec: FleetSpec;
  /** This replica's vantage. */
  readonly vantage: string;
  /** This vantage's own verdicts (what is decided on is decision().health). */
  readonly health: Readonly<Health>;
  /** The overrides in force as last read. */
  readonly overrides: readonly Override[];
  /** The mirror inventory as last read from the store. */
  readonly inventory: Inventory | undefined;
  /** Every canary failed: this controller changes nothing. */
  readonly cutOff: boolean;
  /** Why the last round failed static, if it did. */
  readonly failStatic: string | undefined;
  /** The serving set every provider last accepted (undefined before the first). */
  readonly lastServing: readonly string[] | undefined;
  /** The last round that wrote (this replica led), undefined before it. */
  readonly lastOutcome: ReconcileOutcome | undefined;
  readonly providerStatus: Readonly<State['providers']>;
  /** The fail-open fallback now. */
  readonly lastGood: readonly string[];
  /** The audit log (read only). */
  readonly auditLog: AuditLogReader;
  /** The decision on what every live vantage says now (no I/O, changes nothing). */
  decision(): Decision;
  /** decision().desired. */
  desired(): DesiredState;
  /** Every vantage known, this one with its freshest verdicts. */
  vantageViews(): VantageView[];
  /** Whether this replica leads (writes DNS); alone it always does. */
  isLeader(): boolean;
  /** The leader as this replica knows it, and since when. */
  leader(): LeaderInfo | undefined;
  on<K extends keyof ControllerEvents>(event: K, listener: (...args: ControllerEvents[K]) => void): unknown;
  off<K extends keyof ControllerEvents>(event: K, listener: (...args: ControllerEvents[K]) => void): unknown;
}

/** An override submitted to a running controller, and the round it caused (when it changed anything). */
export interface SubmittedOverride {
  outcome: OverrideOutcome;
  reconcile?: Promise<ReconcileOutcome>;
}

/**
 * The one way the HTTP API changes a running controller: a responder's command, through the command path the CLI
 * uses (runOverrideCommand: checked, audited, saved), after which the controller decides on it at once.
 * Rejects as runOverrideCommand does (UsageError, OverrideConflictError, StateError); nothing changes then.
 */
export interface ControllerCommands {
  submitOverride(cmd: OverrideCommand, o?: { auditData?: Record<string, unknown>; now?: number }): Promise<SubmittedOverride>;
}
