import type { RecordSet } from '../domain/records.ts';
import type { State } from '../domain/state.ts';
import type { ReconcileOutcome } from '../controller/reconcile-outcome.ts';

/** What /healthz judges, taken from the controller (plain data, so the decision is a pure function). */
export interface HealthInput {
  cutOff: boolean;
  /** The served names (spec.domain and alternates). */
  names: readonly string[];
  /** Desired records per zone (desiredRecords). */
  desiredZones: Record<string, RecordSet[]>;
  lastOutcome: ReconcileOutcome | undefined;
  providers: State['providers'];
  /** Why the decision changes nothing now (too few live vantages, etcd lost), when it does. */
  failStatic?: string;
  /**
   * Set on a replica that does not lead (several controllers on etcd): it never reconciles, so its health is whether
   * it takes part and somebody leads, not its own last pass. `leader` names the leading vantage, if any.
   */
  follower?: { leader?: string };
}

export interface HealthVerdict {
  ok: boolean;
  /** Why it is not ok, one line each (empty when ok). */
  reasons: string[];
}

const serving = (r: RecordSet, names: ReadonlySet<string>) => (r.type === 'A' || r.type === 'AAAA') && r.values.length > 0 && names.has(r.name);

/**
 * /healthz is ok only while something is published: the controller is not cut off, the desired answer has an
 * address, the last reconcile reached at least one provider, and some provider holds a serving A/AAAA record.
 * A process that is alive but publishes nothing is not healthy.
 */
export function healthVerdict(h: HealthInput): HealthVerdict {
  const reasons: string[] = [];
  const names = new Set(h.names);
  if (h.cutOff) reasons.push('the controller looks cut off (every canary failed): changing nothing');
  if (!Object.values(h.desiredZones).some((rs) => rs.some((r) => serving(r, names)))) {
    reasons.push('the desired answer is empty: no serving mirror has an address');
  }
  if (h.failStatic && !h.cutOff) reasons.push(`fail static: ${h.failStatic}`);
  if (h.follower) {
    // the leader's /healthz speaks for the providers; a follower is healthy while it takes part and someone leads
    if (h.follower.leader === undefined) reasons.push('no leader: no controller writes DNS');
    return { ok: reasons.length === 0, reasons };
  }
  if (!h.lastOutcome) {
    if (!h.cutOff) reasons.push('no reconcile has finished yet');
  } else if (h.lastOutcome.reports.length > 0 && h.lastOutcome.reports.every((r) => !r.ok)) {
    const errs = h.lastOutcome.reports.map((r) => `${r.provider} ${r.zone}: ${r.error ?? 'failed'}`);
    reasons.push(`the last reconcile failed at every provider (${errs.join('; ')})`);
  }
  const published = Object.values(h.providers).some((p) => Object.values(p.records ?? {}).some((rs) => rs.some((r) => serving(r, names))));
  if (!published) reasons.push('no provider serves an A or AAAA record for the site');
  return { ok: reasons.length === 0, reasons };
}
