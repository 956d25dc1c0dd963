import { normalizeRecordSet, rrsetKey, type Change, type RecordSet } from '../domain/records.ts';
import { isMarkerName, ownedKeys } from './ownership.ts';
import { keepUnattributed, type Attribution, type KeptAddresses } from './unattributed.ts';

export interface PlanOptions {
  ownerId: string;
  /** Share (0..1) of the zone's current RRsets this plan may delete; above it the plan is refused unless forced. */
  maxRemoveShare: number;
  force?: boolean;
  /** Known addresses and not-provisioned mirrors: while a mirror has no known address, unattributable values stay. */
  attribution?: Attribution;
}

export interface Plan {
  changes: Change[];
  /** Desired RRsets left alone because a record we do not own sits there. */
  conflicts: { key: string; reason: string }[];
  /** Set when a safety rail refuses this plan; `changes` is what it would have done. */
  refused?: string;
  /** Values that would have been removed but were kept because a mirror is not provisioned, with why. */
  kept?: KeptAddresses[];
}

/**
 * Diff current against desired for one zone. Pure. Only RRsets our markers claim are updated or deleted;
 * foreign RRsets are never touched. Markers are written before the records they claim and removed after them.
 */
export function planChanges(current: readonly RecordSet[], desired0: readonly RecordSet[], opts: PlanOptions): Plan {
  const owned = ownedKeys(current, opts.ownerId);
  const { desired, kept } = keepUnattributed(current, desired0, owned, opts.attribution);
  const cur = new Map(current.map((r) => [rrsetKey(r), normalizeRecordSet(r)] as const));
  const want = new Map(desired.map((r) => [rrsetKey(r), normalizeRecordSet(r)] as const));
  const conflicts: Plan['conflicts'] = [];

  // A desired record whose place holds a foreign record is skipped, and so is its marker (never claim it).
  const blocked = new Set<string>();
  for (const [key, d] of want) {
    const c = cur.get(key);
    if (c && !owned.has(key)) {
      blocked.add(key);
      if (!isMarkerName(d.name)) blocked.add(`_flotilla-${d.type.toLowerCase()}.${d.name}/TXT`);
      conflicts.push({ key, reason: `a record not created by flotilla (owner ${opts.ownerId}) exists at ${key}; left untouched` });
    }
  }

  const markerFirst: Change[] = [];
  const records: Change[] = [];
  const deletes: Change[] = [];
  const markerDeletes: Change[] = [];
  for (const [key, d] of want) {
    if (blocked.has(key)) continue;
    const c = cur.get(key);
    const bucket = isMarkerName(d.name) ? markerFirst : records;
    if (!c) bucket.push({ action: 'create', after: d });
    else if (!sameNormalized(c, d)) bucket.push({ action: 'update', before: c, after: d });
  }
  for (const [key, c] of cur) {
    if (want.has(key) || !owned.has(key)) continue;
    (isMarkerName(c.name) ? markerDeletes : deletes).push({ action: 'delete', before: c });
  }
  const changes = [...markerFirst, ...records, ...deletes, ...markerDeletes];
  const plan: Plan = { changes, conflicts };
  if (kept.length > 0) plan.kept = kept;

  const removed = deletes.length + markerDeletes.length;
  if (current.length > 0 && removed / current.length > opts.maxRemoveShare && !opts.force) {
    plan.refused =
      `this change deletes ${removed} of ${current.length} RRsets in the zone ` +
      `(${Math.round((100 * removed) / current.length)}% > policy.maxRemoveShare ${Math.round(opts.maxRemoveShare * 100)}%); ` +
      `re-run with --force if that is intended`;
  }
  return plan;
}

/** Both sides are normalised once above (values sorted and canonical): compare without normalising again. */
function sameNormalized(a: RecordSet, b: RecordSet): boolean {
  if (a.ttl !== b.ttl || a.values.length !== b.values.length) return false;
  for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  return true;
}
