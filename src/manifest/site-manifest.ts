import { z } from 'zod';

/**
 * The site manifest served by every mirror at `/.well-known/flotilla.json`: which of the site's domains are live and
 * which were lost (and since when), with a sequence number that only grows. Apps, browser extensions and readers
 * who pinned the site's public key follow the live domains when the one they know is taken away.
 */
export interface SiteManifest {
  v: 1;
  site: string;
  /** Grows by one on every change; a reader never accepts a lower sequence than one it has seen. */
  sequence: number;
  issuedAt: string;
  /** Domains that resolve and serve the site now, the preferred one first. */
  live: string[];
  lost: { domain: string; since: string; reason: string }[];
}

export const MANIFEST_PATH = '/.well-known/flotilla.json';

const domain = z.string().min(1).max(253);
const isoTime = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'expected an ISO 8601 time');
export const siteManifestSchema = z
  .object({
    v: z.literal(1),
    site: z.string().min(1).max(200),
    sequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    issuedAt: isoTime,
    live: z.array(domain).max(1000),
    lost: z.array(z.object({ domain, since: isoTime, reason: z.string().max(500) }).strict()).max(1000),
  })
  .strict();

export interface DomainStanding {
  domain: string;
  /** Set when the domain is lost: when it was first seen lost, and why. */
  lost?: { since: number; reason: string };
}

/**
 * The next manifest from the domains' standing. Pure. The sequence only moves when the content changes, so
 * re-publishing an unchanged standing never makes readers think something happened.
 */
export function nextManifest(prev: SiteManifest | undefined, site: string, standing: readonly DomainStanding[], now: number): SiteManifest {
  const live = standing.filter((d) => !d.lost).map((d) => d.domain);
  const lost = standing
    .filter((d) => d.lost)
    .map((d) => ({ domain: d.domain, since: new Date(d.lost!.since).toISOString(), reason: d.lost!.reason }))
    .sort((a, b) => a.domain.localeCompare(b.domain));
  const same = prev !== undefined && prev.site === site && JSON.stringify(prev.live) === JSON.stringify(live) && JSON.stringify(prev.lost) === JSON.stringify(lost);
  if (same) return prev;
  return { v: 1, site, sequence: (prev?.sequence ?? 0) + 1, issuedAt: new Date(now).toISOString(), live, lost };
}
