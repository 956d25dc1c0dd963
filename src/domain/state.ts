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
  /** The serving set (comma-joined) every server of this provider was last verified to answer. */
  verifiedServing?: string;
  /** Foreign RRsets found at names flotilla publishes (left alone, not verified), as reported. */
  conflicts?: string[];
  /** What the provider held at the last reconcile, per zone (for `plan` and `status` without API calls). */
  records?: Record<string, RecordSet[]>;
  /** Addresses held at this provider that no known mirror owns, kept because a mirror is not provisioned (as reported). */
  unattributed?: string[];
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
  /** Mirror → addresses, host id, digest deployed (from the stack outputs); absent before the first `flotilla up`. */
  inventory?: Inventory;
}

export function emptyState(): State {
  return { version: 0, updatedAt: 0, health: {}, overrides: [], lastGood: [], providers: {} };
}
