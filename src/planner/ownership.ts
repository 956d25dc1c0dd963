import { normalizeName, type RecordSet, type RecordType } from '../domain/records.ts';

/**
 * Ownership markers (ExternalDNS-style TXT registry): for each RRset flotilla owns at NAME/TYPE there is a TXT
 * record `_flotilla-<type>.NAME` whose text is `heritage=flotilla,owner=<ownerId>`. Records with no marker of ours
 * are foreign and never touched.
 */
export const MARKER_PREFIX = '_flotilla-';

export function markerName(name: string, type: RecordType): string {
  return `${MARKER_PREFIX}${type.toLowerCase()}.${normalizeName(name)}`;
}

export function markerValue(ownerId: string): string {
  return `heritage=flotilla,owner=${ownerId}`;
}

export function isMarkerName(name: string): boolean {
  return normalizeName(name).startsWith(MARKER_PREFIX);
}

export function markerRecord(name: string, type: RecordType, ownerId: string, ttl: number): RecordSet {
  return { name: markerName(name, type), type: 'TXT', ttl, values: [markerValue(ownerId)] };
}

/** True when `r` is one of our markers (TXT at a marker name carrying our owner id). */
export function isOurMarker(r: RecordSet, ownerId: string): boolean {
  return r.type === 'TXT' && isMarkerName(r.name) && r.values.includes(markerValue(ownerId));
}

/** Set of `name/TYPE` keys the markers in `current` say we own (the markers themselves included). */
export function ownedKeys(current: readonly RecordSet[], ownerId: string): Set<string> {
  const owned = new Set<string>();
  for (const r of current) {
    if (!isOurMarker(r, ownerId)) continue;
    const n = normalizeName(r.name);
    const rest = n.slice(MARKER_PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot < 0) continue;
    owned.add(`${rest.slice(dot + 1)}/${rest.slice(0, dot).toUpperCase()}`);
    owned.add(`${n}/TXT`);
  }
  return owned;
}
