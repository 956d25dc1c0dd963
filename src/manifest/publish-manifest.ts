import type { KeyObject } from 'node:crypto';
import { signManifest, type SignedManifest } from './manifest-signing.ts';
import { nextManifest, siteManifestSchema, type DomainStanding, type SiteManifest } from './site-manifest.ts';

export interface ManifestToPublish {
  signed: SignedManifest;
  /** The document as served (pretty JSON of the signed manifest). */
  json: string;
  /** False when the standing did not change: the previous document stands, nothing to publish. */
  changed: boolean;
}

/**
 * The manifest to serve after the domains' standing changed: the previous one when nothing changed, else the next
 * sequence, signed. `previousJson` is the served text last published (from the state store); one that does not parse
 * counts as none, but its sequence is kept if it can be read, so the sequence never goes back.
 */
export function manifestToPublish(o: { previousJson?: string; previousSequence?: number; site: string; standing: readonly DomainStanding[]; key: KeyObject; now: number }): ManifestToPublish {
  let prev: SiteManifest | undefined;
  let prevSigned: SignedManifest | undefined;
  if (o.previousJson !== undefined) {
    try {
      const doc = JSON.parse(o.previousJson) as SignedManifest;
      const p = siteManifestSchema.safeParse(doc?.manifest);
      if (p.success) {
        prev = p.data as SiteManifest;
        prevSigned = doc;
      }
    } catch {
      /* unreadable: start from the stored sequence */
    }
  }
  const base = prev ?? (o.previousSequence !== undefined ? ({ v: 1, site: o.site, sequence: o.previousSequence, issuedAt: new Date(0).toISOString(), live: [], lost: [] } as SiteManifest) : undefined);
  const next = nextManifest(base, o.site, o.standing, o.now);
  if (prev && prevSigned && next === prev) return { signed: prevSigned, json: o.previousJson!, changed: false };
  const signed = signManifest(next, o.key);
  return { signed, json: `${JSON.stringify(signed, null, 2)}\n`, changed: true };
}
