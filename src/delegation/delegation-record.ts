import type { DelegationRecord } from '../domain/state.ts';
import type { GuardEvent } from './delegation-guard.ts';

/**
 * The delegation record after one guard event. Pure. Only what the guard did (prune, restore) and saw (lost,
 * recovered) changes it; dry-run events change nothing. Returns the same object when nothing changed.
 */
export function recordGuardEvent(rec: DelegationRecord | undefined, e: GuardEvent, now: number): DelegationRecord {
  const cur: DelegationRecord = rec ?? { pruned: {}, lost: {} };
  if (e.data?.dryRun) return cur;
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (e.kind === 'prune' || e.kind === 'restore') {
    const had = cur.pruned[e.zone] ?? [];
    const next = [...new Set([...had.filter((p) => !list(e.data?.restored).includes(p)), ...list(e.data?.pruned)])].sort();
    if (next.join(',') === had.join(',')) return cur;
    const pruned = { ...cur.pruned, [e.zone]: next };
    if (next.length === 0) delete pruned[e.zone];
    return { ...cur, pruned };
  }
  if (e.kind === 'lost') {
    if (cur.lost[e.zone]) return cur; // since stays the first time it was seen lost
    return { ...cur, lost: { ...cur.lost, [e.zone]: { since: now, reason: String(e.data?.reason ?? e.message) } } };
  }
  if (e.kind === 'recovered') {
    if (!cur.lost[e.zone]) return cur;
    const lost = { ...cur.lost };
    delete lost[e.zone];
    return { ...cur, lost };
  }
  return cur;
}
