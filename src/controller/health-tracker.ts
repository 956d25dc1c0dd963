import type { MirrorHealth } from '../domain/health.ts';

export interface HysteresisSettings {
  rise: number;
  fall: number;
  /** Flips within this window count toward flapping. */
  flapWindowMs: number;
  /** This many flips within the window make a mirror "flapping": it then needs `rise × flapPenalty` successes. */
  flapThreshold: number;
  flapPenalty: number;
}

export interface Observation {
  ok: boolean;
  reason: string;
  latencyMs: number;
  at: number;
  /** The failure is a deplatforming sign (see ProbeResult.deplatformed). */
  deplatformed?: string;
}

export interface TrackResult {
  next: MirrorHealth;
  /** The state changed (up ↔ down, or unknown → down/up). */
  flipped: boolean;
  flapping: boolean;
}

export function hysteresisFor(h: { rise: number; fall: number; intervalMs: number }): HysteresisSettings {
  // a window of ten full rise+fall cycles: long enough to see a flapper, short enough to forgive one
  return { rise: h.rise, fall: h.fall, flapWindowMs: Math.max(10_000, 10 * (h.rise + h.fall) * h.intervalMs), flapThreshold: 3, flapPenalty: 3 };
}

/** Rise/fall hysteresis for one mirror. Pure: the next health from the current one and one probe result. */
export function observe(cur: MirrorHealth, o: Observation, s: HysteresisSettings): TrackResult {
  const recentFlips = cur.recentFlips.filter((t) => o.at - t < s.flapWindowMs);
  const flapping = recentFlips.length >= s.flapThreshold;
  const successStreak = o.ok ? cur.successStreak + 1 : 0;
  const failureStreak = o.ok ? 0 : cur.failureStreak + 1;
  const needRise = flapping ? s.rise * s.flapPenalty : s.rise;
  let state = cur.state;
  if (state !== 'down' && failureStreak >= s.fall) state = 'down';
  else if (state !== 'up' && successStreak >= (state === 'unknown' ? s.rise : needRise)) state = 'up';
  const flipped = state !== cur.state;
  // what the latest failures say: a deplatforming sign sticks through failures without one (a suspended host may
  // also stop answering) and is cleared by the first success
  const deplatformed = o.ok ? undefined : (o.deplatformed ?? cur.deplatformed);
  // unknown → up is the first sighting, not a flip worth counting against the mirror
  if (flipped && cur.state !== 'unknown') recentFlips.push(o.at);
  return {
    next: {
      state,
      successStreak,
      failureStreak,
      since: flipped ? o.at : cur.since,
      recentFlips,
      lastReason: o.reason,
      lastLatencyMs: o.latencyMs,
      lastProbeAt: o.at,
      ...(deplatformed !== undefined ? { deplatformed } : {}),
      // a moved mirror waits for `rise` good probes at its new address
      ...(cur.awaitingRise && state !== 'up' ? { awaitingRise: true } : {}),
    },
    flipped,
    flapping: recentFlips.length >= s.flapThreshold,
  };
}

/**
 * Whether a mirror is mid-transition and deserves a fast re-probe: it failed (fewer than `fall` times) while not
 * down, or passed (fewer than `rise` times) while not up. A down mirror that is flapping comes back at its normal
 * pace, so flap damping keeps its time as well as its count.
 */
export function inTransition(h: MirrorHealth, s: HysteresisSettings, now: number): boolean {
  if (h.state !== 'down' && h.failureStreak >= 1 && h.failureStreak < s.fall) return true;
  if (h.state === 'up' || h.successStreak < 1) return false;
  const flapping = h.recentFlips.filter((t) => now - t < s.flapWindowMs).length >= s.flapThreshold;
  return !(flapping && h.state === 'down');
}
