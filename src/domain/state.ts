import type { Health } from './health.ts';
import type { Inventory } from './inventory.ts';
import type { Override } from './override.ts';
import type { RecordSet } from './records.ts';

/** What one DNS provider was last seen doing. */
export interface ProviderStatus {
  lastAppliedAt?: number;
  /** When every authoritative server of this provider last answered the desired set. */
  lastConvergedAt?: number;
  /** Decision → last server converged, for the latest decision (ms). */
  lastConvergeMs?: number;
  lastError?: string;
  /** Stable code of lastError (src/domain/errors.ts), e.g. PLAN_REFUSED, DRIVER_AUTH. */
  lastErrorCode?: string;
  /** The serving set (comma-joined) every server of this provider was last verified to answer. */
  verifiedServing?: string;
  /** Foreign RRsets found at names flotilla publishes (left alone, not verified), as reported. */
  conflicts?: string[];
  /** What the provider held at the last reconcile, per zone (for `plan` and `status` without API calls). */
  records?: Record<string, RecordSet[]>;
  /** Addresses held at this provider that no known mirror owns, kept because a mirror is not provisioned (as reported). */
  unattributed?: string[];
}

/** What the delegation guard did and saw, per zone (kept so `pulumi up` and a restarted daemon agree with it). */
export interface DelegationRecord {
  /** Zone → DNS providers whose nameservers the guard took out of the delegation (sorted). */
  pruned: Record<string, string[]>;
  /** Zone → since when it is lost (ms) and why. */
  lost: Record<string, { since: number; reason: string }>;
}

/** The signed manifest last published (`/.well-known/flotilla.json`), exactly as served. */
export interface PublishedManifest {
  sequence: number;
  publishedAt: number;
  /** The served document (JSON text of the signed manifest). */
  json: string;
}

/** The controller's persistent state. `version` increases by one on every save (optimistic concurrency). */
export interface State {
  version: number;
  updatedAt: number;
  health: Health;
  overrides: Override[];
  /** Mirrors in the last published answer: the fail-open fallback. */
  lastGood: string[];
  providers: Record<string, ProviderStatus>;
  /** The running controller that last saved this state: responders tell from it whether anyone will act on an override. */
  controller?: ControllerHeartbeat;
  /** Absent until the delegation guard first records something. */
  delegation?: DelegationRecord;
  manifest?: PublishedManifest;
  /** Mirror → addresses, host id, digest deployed (from the stack outputs); absent before the first `flotilla up`. */
  inventory?: Inventory;
}

/** Written by a running controller on every save (at least every CONTROLLER_SAVE_INTERVAL_MS). */
export interface ControllerHeartbeat {
  at: number;
  host: string;
  pid: number;
}

/** A running controller saves its state at least this often. */
export const CONTROLLER_SAVE_INTERVAL_MS = 5_000;

/**
 * Whether a controller is running on this state: it saved within two save intervals. Pure; `now` is the caller's.
 * A state written by an older controller (no heartbeat) counts as not running.
 */
export function controllerRunning(state: State, now: number): boolean {
  return state.controller !== undefined && now - state.controller.at <= 2 * CONTROLLER_SAVE_INTERVAL_MS;
}

export function emptyState(): State {
  return { version: 0, updatedAt: 0, health: {}, overrides: [], lastGood: [], providers: {} };
}
