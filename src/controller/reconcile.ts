import { DriverError, FlotillaError } from '../domain/errors.ts';
import type { RecordSet } from '../domain/records.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import { withRetry } from '../drivers/retry.ts';
import { planChanges, type Plan } from '../planner/plan-changes.ts';
import { shapeForProvider } from '../planner/shape-for-provider.ts';
import type { WriteBudget } from './write-budget.ts';

export interface ZoneReport {
  provider: string;
  zone: string;
  ok: boolean;
  plan?: Plan;
  applied: number;
  /** What the provider holds after this reconcile (when known). */
  records?: RecordSet[];
  error?: string;
  errorCode?: string;
  ms: number;
}

export interface ReconcileOptions {
  drivers: readonly DnsDriver[];
  /** Desired records per zone (from desiredRecords). */
  zones: Record<string, RecordSet[]>;
  ownerId: string;
  maxRemoveShare: number;
  force?: boolean;
  dryRun?: boolean;
  budgets?: Map<string, WriteBudget>;
  attempts?: number;
  signal?: AbortSignal;
  /** Called right before each write (after list and plan); a rejection means "do not write" (fencing). */
  beforeWrite?: () => Promise<void>;
}

/**
 * list → plan → apply at every provider and zone, all providers in parallel. A failure at one provider is reported
 * in its ZoneReport and never blocks or fails the others. Transient errors are retried with backoff.
 */
export async function reconcileAll(o: ReconcileOptions): Promise<ZoneReport[]> {
  const jobs = o.drivers.flatMap((d) => Object.keys(o.zones).map((zone) => reconcileZone(d, zone, o)));
  return Promise.all(jobs);
}

async function reconcileZone(d: DnsDriver, zone: string, o: ReconcileOptions): Promise<ZoneReport> {
  const t0 = performance.now();
  // drivers already retry throttling and transient faults inside; the controller's own retry is the next pass
  const retry = { attempts: o.attempts ?? 1, baseDelayMs: 100, signal: o.signal };
  try {
    const current = await withRetry(() => d.listRecords(zone, o.signal), retry);
    const plan = planChanges(current, shapeForProvider(o.zones[zone], d.capabilities, d.name).records, { ownerId: o.ownerId, maxRemoveShare: o.maxRemoveShare, force: o.force });
    if (plan.refused) return { provider: d.name, zone, ok: false, plan, applied: 0, records: current, error: plan.refused, errorCode: 'PLAN_REFUSED', ms: performance.now() - t0 };
    if (plan.changes.length === 0 || o.dryRun) return { provider: d.name, zone, ok: true, plan, applied: 0, records: current, ms: performance.now() - t0 };
    await o.budgets?.get(d.name)?.take(1, o.signal);
    await o.beforeWrite?.();
    const report = await withRetry(() => d.applyChanges(zone, plan.changes, o.signal), retry);
    const after = applyLocally(current, plan);
    return { provider: d.name, zone, ok: true, plan, applied: report.applied, records: after, ms: performance.now() - t0 };
  } catch (e) {
    const err = e instanceof DriverError ? e : undefined;
    // refused by the fence before the write (deposed, or etcd could not say): nothing was written
    const fenced = e instanceof FlotillaError && (e.code === 'NOT_LEADER' || e.code === 'STATE_UNAVAILABLE') ? e.code : undefined;
    return {
      provider: d.name,
      zone,
      ok: false,
      applied: 0,
      error: err ? err.message : `${d.name} (zone ${zone}): ${(e as Error)?.message ?? String(e)}`,
      errorCode: err?.code ?? fenced ?? 'DRIVER_FAILED',
      ms: performance.now() - t0,
    };
  }
}

/** `name/TYPE` keys of desired RRsets left alone because a foreign record holds them (never written, so never verified). */
export function conflictKeys(reports: readonly ZoneReport[]): Set<string> {
  return new Set(reports.flatMap((r) => (r.plan?.conflicts ?? []).map((c) => c.key)).filter((k) => !k.startsWith('_flotilla-')));
}

/** The zone after a successful apply, without another list call. */
function applyLocally(current: RecordSet[], plan: Plan): RecordSet[] {
  const key = (r: RecordSet) => `${r.name}/${r.type}`;
  const m = new Map(current.map((r) => [key(r), r]));
  for (const c of plan.changes) {
    if (c.action === 'delete') m.delete(key(c.before));
    else m.set(key(c.after), c.after);
  }
  return [...m.values()];
}
