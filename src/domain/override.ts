/**
 * A responder's override. Every override carries who, why and until when; expired ones lapse by themselves.
 * - drain: take `mirror` out of the answer (unless it is the last serving one).
 * - failover: send all traffic to `mirror` alone.
 */
export interface Override {
  id: string;
  kind: 'drain' | 'failover';
  mirror: string;
  reason: string;
  author: string;
  createdAt: number;
  /** ms since epoch; undefined = until removed by hand. */
  expiresAt?: number;
}

export function activeOverrides(overrides: readonly Override[], now: number): Override[] {
  return overrides.filter((o) => o.expiresAt === undefined || o.expiresAt > now);
}
