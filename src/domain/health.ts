/** What the controller believes about each mirror. `unknown` = never probed (treated as serving). */
export type MirrorState = 'up' | 'down' | 'unknown';

export interface MirrorHealth {
  state: MirrorState;
  /** Consecutive successes / failures of the latest probes. */
  successStreak: number;
  failureStreak: number;
  /** When the state last changed (ms since epoch). */
  since?: number;
  /** Number of state flips in the recent window (flap detection). */
  recentFlips: number[];
  /** Why the last probe failed (or `ok`). */
  lastReason?: string;
  lastLatencyMs?: number;
  lastProbeAt?: number;
  /**
   * Set while the latest failures say the host took the site down on purpose (HTTP 451, a suspension page, a
   * certificate from another issuer): the mirror is "deplatformed", not just down. It still leaves the answer as down.
   */
  deplatformed?: string;
  /**
   * The inventory gave the mirror a new address (a replacement host): it is neither served nor part of a fail-open
   * answer until `rise` good probes there make it up; cleared then.
   */
  awaitingRise?: boolean;
}

export type Health = Record<string, MirrorHealth>;

export function unknownHealth(): MirrorHealth {
  return { state: 'unknown', successStreak: 0, failureStreak: 0, recentFlips: [] };
}
