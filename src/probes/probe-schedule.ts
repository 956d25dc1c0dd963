/**
 * When to probe next. Pure.
 *
 * Every mirror has a grid of slots `first + k * intervalMs`; `due` is the slot, `at` the moment the probe runs,
 * `due + jitter`. The next slot is computed from the previous SLOT, not from when the probe ran or finished, so
 * jitter and slow probes never accumulate into drift: after n intervals the slot is exactly first + n * interval.
 */
export interface NextDueInput {
  /** The previous slot (the `due` returned last time, or the first slot). */
  lastDue: number;
  intervalMs: number;
  /** Fraction of the interval (0..1) used as random delay after the slot. */
  jitter: number;
  /** Uniform in [0, 1); injected so the schedule stays a pure function. */
  random: () => number;
  /** When given and the next slot is already past (the loop stalled), skip to the first slot after `now`. */
  now?: number;
}

export interface Due {
  /** The slot on the grid; pass it back as `lastDue`. */
  due: number;
  /** When to run the probe: due <= at < due + jitter * intervalMs. */
  at: number;
}

export function nextDue({ lastDue, intervalMs, jitter, random, now }: NextDueInput): Due {
  if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${intervalMs}`);
  let due = lastDue + intervalMs;
  // A stall skips whole missed slots instead of firing a burst of catch-up probes; it stays on the grid.
  if (now !== undefined && due < now) due += Math.ceil((now - due) / intervalMs) * intervalMs;
  return { due, at: due + jitterOffset(intervalMs, jitter, random) };
}

/** Random delay in [0, jitter * intervalMs), whole milliseconds. */
export function jitterOffset(intervalMs: number, jitter: number, random: () => number): number {
  const span = Math.max(0, Math.min(1, jitter)) * intervalMs;
  const r = random();
  const unit = r >= 0 && r < 1 ? r : 0;
  return Math.floor(unit * span);
}

/**
 * First-slot offsets that spread n mirrors evenly over the first interval (0 <= offset < intervalMs), so probes of
 * thousands of mirrors do not start together.
 */
export function initialOffsets(n: number, intervalMs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.floor((i * intervalMs) / n));
  return out;
}

/** Fast re-probes never come closer than this, whatever the interval. */
export const FAST_INTERVAL_FLOOR_MS = 50;

/**
 * The fast re-probe interval (HAProxy's fastinter): the configured one, else a fifth of the interval, at least
 * 50 ms, and never longer than the interval itself.
 */
export function fastIntervalFor(intervalMs: number, fastIntervalMs?: number): number {
  const wanted = fastIntervalMs ?? Math.max(FAST_INTERVAL_FLOOR_MS, intervalMs / 5);
  return Math.min(intervalMs, Math.max(1, Math.round(wanted)));
}

export interface FastRecheckInput {
  /** When the probe that left the mirror mid-transition started. */
  lastStart: number;
  /** When that probe ended (its result was in). */
  lastEnd: number;
  /** Whether that probe passed. */
  lastOk: boolean;
  fastIntervalMs: number;
  now: number;
  /** When the next regular slot's probe runs (its `at`). */
  nextSlotAt: number;
}

/**
 * When to re-probe a mirror that is mid-transition (failed once while serving, or passed once while down), not before
 * now; undefined when the regular slot comes first anyway.
 * - After a FAILED probe: `fastIntervalMs` after it ENDED. A probe that timed out is not followed at once by another
 *   one competing for the same starved CPU (HAProxy, too, counts its inter from the end of a check): with the
 *   defaults (interval 250, timeout 200, fastInterval 50) three timeouts in a row take as long as at the normal
 *   pace, while a refused probe ends within a millisecond or two, so a killed mirror is still confirmed
 *   `fastIntervalMs` apart.
 * - After a PASSED probe: `fastIntervalMs` after it STARTED. The mirror answers; the slow first answer of a mirror
 *   that was hung does not also delay the second one.
 */
export function fastRecheckAt({ lastStart, lastEnd, lastOk, fastIntervalMs, now, nextSlotAt }: FastRecheckInput): number | undefined {
  const from = lastOk ? lastStart : Math.max(lastStart, lastEnd);
  const at = Math.max(now, from + fastIntervalMs);
  return at < nextSlotAt ? at : undefined;
}
