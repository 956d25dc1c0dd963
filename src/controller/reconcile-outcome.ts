import type { DesiredState } from '../planner/desired-records.ts';
import type { ZoneReport } from './reconcile.ts';
import type { ServerVerdict } from './verify.ts';

/** What one decide-and-act round did: the decision, whether it was skipped (and why), each write and each server's verdict. */
export interface ReconcileOutcome {
  reason: string;
  decidedAt: number;
  desired: Pick<DesiredState, 'serving' | 'failOpen' | 'degraded' | 'notes'>;
  skipped?: string;
  reports: ZoneReport[];
  verify: ServerVerdict[];
  /** Decision → last authoritative server converged (ms), when all converged. */
  convergeMs?: number;
}
