/**
 * When to renew, and how long to wait after a failed attempt. Pure.
 */

export interface CertTimes {
  notBefore: number;
  notAfter: number;
}

export type RenewDecision =
  | { renew: true; reason: string }
  | { renew: false; reason: string; nextCheckAt: number };

/**
 * Renew once `renewAt` (a share, 2/3 by default) of the lifetime has passed — for a 90-day certificate that is 30 days
 * before expiry, Let's Encrypt's own advice — or as soon as an ARI window (RFC 9773) the CA suggested has opened.
 * No certificate, or one already expired, is renewed at once.
 */
export function renewDecision(cert: CertTimes | undefined, now: number, renewAt = 2 / 3, ari?: { start: number; end: number }): RenewDecision {
  if (!cert) return { renew: true, reason: 'no certificate yet' };
  if (now >= cert.notAfter) return { renew: true, reason: 'the certificate has expired' };
  const due = cert.notBefore + (cert.notAfter - cert.notBefore) * renewAt;
  if (ari && now >= ari.start) return { renew: true, reason: 'the CA\'s renewal window (ARI) has opened' };
  if (now >= due) return { renew: true, reason: `${Math.round(renewAt * 100)}% of its lifetime has passed` };
  return { renew: false, reason: `renews ${new Date(Math.min(due, ari?.start ?? Infinity)).toISOString()}`, nextCheckAt: Math.min(due, ari?.start ?? Infinity) };
}

/** Waits after 1, 2, 3… failures in a row: 5 min doubling to at most 6 h, so a long CA or provider outage costs few orders. */
export const BACKOFF_BASE_MS = 5 * 60_000;
export const BACKOFF_MAX_MS = 6 * 3_600_000;

export function backoffMs(failures: number, base = BACKOFF_BASE_MS, max = BACKOFF_MAX_MS): number {
  if (failures <= 0) return 0;
  return Math.min(max, base * 2 ** Math.min(failures - 1, 30));
}

/** The earliest next attempt after the `failures`-th failure in a row at `now`. */
export function nextAttemptAt(failures: number, now: number, base = BACKOFF_BASE_MS, max = BACKOFF_MAX_MS): number {
  return now + backoffMs(failures, base, max);
}
