import { zoneOf, type FleetSpec } from '../domain/fleet-spec.ts';
import { normalizeName, type RecordSet } from '../domain/records.ts';
import { markerRecord } from '../planner/ownership.ts';

/** The one certificate a site gets: every name it answers on, the domain first (it becomes the subject). */
export function certNames(spec: Pick<FleetSpec, 'domain' | 'alternateDomains'>): string[] {
  return [...new Set([spec.domain, ...spec.alternateDomains].map(normalizeName))];
}

/** The DNS-01 challenge name of `name` (RFC 8555 §8.4). */
export function challengeName(name: string): string {
  return `_acme-challenge.${normalizeName(name).replace(/^\*\./, '')}`;
}

/**
 * Owner id of challenge records: distinct from the serving records' owner, so the controller's own passes see
 * them as foreign (never delete a challenge in flight) and the challenge pass can touch nothing but challenges.
 */
export function challengeOwner(ownerId: string): string {
  return `${ownerId}.acme`;
}

/** TTL of challenge TXT records: short, so a retried challenge is not answered from a cache (providers raise it to their floor). */
export const CHALLENGE_TTL = 60;

/**
 * The challenge RRsets per zone, with their ownership markers: one TXT RRset per name holding every value the CA
 * asked for at that name (a name with a wildcard sibling gets two). Pure. An empty `values` list gives every zone an
 * empty record list: what removing the challenges writes.
 */
export function challengeRecords(given: Pick<FleetSpec, 'domain' | 'alternateDomains'>, values: readonly { name: string; value: string }[], ownerId: string): Record<string, RecordSet[]> {
  const spec = { domain: normalizeName(given.domain), alternateDomains: given.alternateDomains };
  const zones: Record<string, RecordSet[]> = {};
  for (const n of certNames(spec)) zones[zoneOf(spec, n)] ??= [];
  const byName = new Map<string, string[]>();
  for (const v of values) {
    const n = challengeName(v.name);
    byName.set(n, [...(byName.get(n) ?? []), v.value]);
  }
  const owner = challengeOwner(ownerId);
  for (const [name, vals] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const zone = zoneOf(spec, name.replace(/^_acme-challenge\./, ''));
    (zones[zone] ??= []).push(markerRecord(name, 'TXT', owner, CHALLENGE_TTL), { name, type: 'TXT', ttl: CHALLENGE_TTL, values: [...new Set(vals)].sort() });
  }
  return zones;
}
