import { mirrorHealth, type FleetSpec } from '../domain/fleet-spec.ts';

/**
 * The fail-open fallback: the set that served BEFORE an outage began. Mirrors that die together are detected one
 * by one (one probe interval apart), and each detection is a decision of its own; a decision counts as good only
 * once it has stood for `settleMs` (the detection window), so the cascade of an outage never replaces the set that
 * served before it. Pure values; the controller keeps one.
 */
export interface LastGood {
  /** The latest decision that stood for `settleMs` (or the saved fallback at start). */
  good: string[];
  /** The latest decision that did not fail open, while it has not yet stood long enough to be good. */
  candidate?: { serving: string[]; at: number };
}

/** The fallback as of `now`. */
export function lastGoodAt(lg: LastGood, now: number, settleMs: number): string[] {
  return lg.candidate && now - lg.candidate.at >= settleMs ? lg.candidate.serving : lg.good;
}

/** After a decision taken at `at`: a fail-open decision freezes the fallback, any other becomes the candidate. */
export function recordDecision(lg: LastGood, serving: readonly string[], failOpen: boolean, at: number, settleMs: number): LastGood {
  const good = lastGoodAt(lg, at, settleMs);
  return failOpen ? { good } : { good, candidate: { serving: [...serving], at } };
}

/** How long a decision must stand to be good: the longest time hysteresis takes to detect a dead mirror. */
export function settleMsFor(spec: FleetSpec): number {
  return Math.max(0, ...spec.mirrors.map((m) => {
    const h = mirrorHealth(spec, m);
    return h.intervalMs * h.fall + h.timeoutMs;
  }));
}
