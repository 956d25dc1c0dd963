/** Durations in stack files are strings with units: `250ms`, `2s`, `5m`, `1h`, `1h30m`, `7d`. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Node's timers fire after 1 ms when asked to wait longer than this (and warn): no timer may be given more. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The longest duration any text parses to: 100 years. Far above any setting, and far enough inside the range of
 * `Date` (±8.64e15 ms) that `Date.now() + d` is always a valid date, whatever the caller does with it.
 */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/**
 * Parses a duration string to milliseconds; returns undefined when it is not one, or is longer than
 * MAX_DURATION_MS (callers word the error; settings bound their own range further, see config/fleet-schema.ts).
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '' || s.startsWith('-')) return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(s); m; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed = PART.lastIndex;
  }
  if (consumed !== s.length) return undefined;
  // digits enough to overflow to Infinity, or a span no clock can hold
  if (!Number.isFinite(total) || total > MAX_DURATION_MS) return undefined;
  return Math.round(total);
}

/** Formats milliseconds back to a short human string (`250ms`, `2s`, `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(3)}s`.replace(/\.0+s$/, 's');
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return parts.join('');
}
