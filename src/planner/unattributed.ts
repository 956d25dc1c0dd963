import { normalizeRecordSet, rrsetKey, type RecordSet } from '../domain/records.ts';
import { isMarkerName, markerName } from './ownership.ts';

/**
 * What the controller can attribute: every address of a mirror with a known address, and the mirrors without one.
 * While any mirror is not provisioned (or not yet proven at a new address), an address in a serving set that no
 * known mirror has may well be that mirror's (Pulumi created the host and wrote it): it is kept, never removed on a guess.
 */
export interface Attribution {
  /** Canonical addresses of the mirrors with a known address. */
  knownAddresses: readonly string[];
  /** Mirrors with no known address. */
  unprovisioned: readonly string[];
  /** Mirrors at a new address not yet proven by `rise` probes: what they served before may still be theirs. */
  awaitingRise?: readonly string[];
}

export interface KeptAddresses {
  key: string;
  values: string[];
  reason: string;
}

/**
 * The desired RRsets with every unattributable A/AAAA value of an owned serving set at the provider kept in them,
 * while a mirror is not provisioned or waits for `rise` probes at a new address (a create-before-delete replacement
 * keeps the old host in until the new one is proven); and what was kept, with why. Pure. Otherwise nothing changes.
 */
export function keepUnattributed(current: readonly RecordSet[], desired: readonly RecordSet[], owned: ReadonlySet<string>, a: Attribution | undefined): { desired: RecordSet[]; kept: KeptAddresses[] } {
  const list = (ns: readonly string[], one: string, many: string) => (ns.length === 0 ? [] : [`${ns.join(', ')} ${ns.length > 1 ? many : one}`]);
  const unsure = [...list(a?.unprovisioned ?? [], 'is not provisioned (no known address)', 'are not provisioned (no known address)'), ...list(a?.awaitingRise ?? [], 'has not yet passed rise probes at its new address', 'have not yet passed rise probes at their new addresses')];
  if (!a || unsure.length === 0) return { desired: [...desired], kept: [] };
  const known = new Set(a.knownAddresses);
  const want = new Map(desired.map((r) => [rrsetKey(r), r] as const));
  const cur = new Map(current.map((r) => [rrsetKey(r), r] as const));
  const kept: KeptAddresses[] = [];
  for (const [key, c0] of cur) {
    if ((c0.type !== 'A' && c0.type !== 'AAAA') || isMarkerName(c0.name) || !owned.has(key)) continue;
    const c = normalizeRecordSet(c0);
    const strangers = c.values.filter((v) => !known.has(v));
    if (strangers.length === 0) continue;
    const d = want.get(key);
    const values = [...new Set([...(d?.values ?? []), ...strangers])];
    want.set(key, { name: d?.name ?? c.name, type: c.type, ttl: d?.ttl ?? c.ttl, values });
    // the set stays, so its ownership marker stays too
    const mk = `${markerName(c.name, c.type)}/TXT`;
    if (!want.has(mk) && cur.has(mk)) want.set(mk, cur.get(mk)!);
    kept.push({
      key,
      values: strangers,
      reason: `kept ${strangers.join(', ')} at ${key}: no known mirror has ${strangers.length > 1 ? 'these addresses' : 'this address'} and ${unsure.join(' and ')}, so ${strangers.length > 1 ? 'they' : 'it'} may be theirs; removal refused until every mirror's address is known (\`flotilla inventory refresh\` or \`flotilla up\`) and has passed its probes`,
    });
  }
  return { desired: [...want.values()], kept };
}
