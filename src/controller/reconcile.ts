import { DriverError, FlotillaError } from '../domain/errors.ts';
import { redactText } from '../domain/redact-url.ts';
import type { RecordSet } from '../domain/records.ts';
import { wrapDriver } from '../drivers/driver-wrapper.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import { withRetries } from '../drivers/retrying-driver.ts';
import { planChanges, type Plan } from '../planner/plan-changes.ts';
import type { Attribution } from '../planner/unattributed.ts';
import { shapeForProvider } from '../planner/shape-for-provider.ts';
import { withWriteBudget } from './budgeted-driver.ts';
import { fenceAhead } from './fence-ahead.ts';
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
  /** From desiredRecords: unattributable values stay while a mirror is not provisioned. */
  attribution?: Attribution;
  dryRun?: boolean;
  budgets?: Map<string, WriteBudget>;
  attempts?: number;
  /** A retry-after longer than this is not waited for in this pass (see withRetries). */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
  /** Called before each write (after list and plan, or ahead: fenceAheadMs); a rejection means "do not write" (fencing). */
  beforeWrite?: () => Promise<void>;
  /**
   * Ask `beforeWrite` once, beside the lists, and let every write of this reconcile use that answer while it is at
   * most this many ms old (asked → write sent); unset: ask right before each write.
   */
  fenceAheadMs?: number;
}

/**
 * list → plan → apply at every provider and zone, all providers in parallel. A failure at one provider is reported
 * in its ZoneReport and never blocks or fails the others. Transient errors are retried with backoff.
 */
export async function reconcileAll(o: ReconcileOptions): Promise<ZoneReport[]> {
  // one ask for the whole pass: it runs while the providers are listed, not after
  const beforeWrite = o.beforeWrite && o.fenceAheadMs !== undefined ? fenceAhead(o.beforeWrite, o.fenceAheadMs) : o.beforeWrite;
  const jobs = o.drivers.flatMap((d) => Object.keys(o.zones).map((zone) => reconcileZone(d, zone, { ...o, beforeWrite })));
  return Promise.all(jobs);
}

async function reconcileZone(d: DnsDriver, zone: string, o: ReconcileOptions): Promise<ZoneReport> {
  const t0 = performance.now();
  // drivers already retry each throttled or failed request inside; the controller's own retry is the next pass.
  // The budget is inside the retry, so every attempt spends tokens for the requests it sends.
  // The fence (beforeWrite) is innermost: checked after any wait for tokens, before every write attempt.
  const budget = o.budgets?.get(d.name);
  const fenced = o.beforeWrite ? withFence(d, o.beforeWrite) : d;
  const w = withRetries(budget ? withWriteBudget(fenced, budget) : fenced, { attempts: o.attempts ?? 1, baseDelayMs: 100, maxRetryAfterMs: o.maxRetryAfterMs });
  try {
    const current = await w.listRecords(zone, o.signal);
    const plan = planChanges(current, shapeForProvider(o.zones[zone], d.capabilities, d.name).records, { ownerId: o.ownerId, maxRemoveShare: o.maxRemoveShare, force: o.force, attribution: o.attribution });
    if (plan.refused) return { provider: d.name, zone, ok: false, plan, applied: 0, records: current, error: plan.refused, errorCode: 'PLAN_REFUSED', ms: performance.now() - t0 };
    if (plan.changes.length === 0 || o.dryRun) return { provider: d.name, zone, ok: true, plan, applied: 0, records: current, ms: performance.now() - t0 };
    const report = await w.applyChanges(zone, plan.changes, o.signal);
    const after = applyLocally(current, plan);
    return { provider: d.name, zone, ok: true, plan, applied: report.applied, records: after, ms: performance.now() - t0 };
  } catch (e) {
    // every typed error keeps its own stable code (a PlanRefusedError from shapeForProvider is PLAN_REFUSED; refused
    // by the fence before the write — NOT_LEADER, or STATE_UNAVAILABLE when etcd could not say — nothing was written)
    const err = e instanceof FlotillaError ? e : undefined;
    return {
      provider: d.name,
      zone,
      ok: false,
      applied: 0,
      error: err ? err.message : redactText(`${d.name} (zone ${zone}): ${(e as Error)?.message ?? String(e)}`),
      errorCode: err?.code ?? 'DRIVER_FAILED',
      ms: performance.now() - t0,
    };
  }
}

/** `name/TYPE` keys of desired RRsets left alone because a foreign record holds them (never written, so never verified). */
export function conflictKeys(reports: readonly ZoneReport[]): Set<string> {
  return new Set(reports.flatMap((r) => (r.plan?.conflicts ?? []).map((c) => c.key)).filter((k) => !k.startsWith('_flotilla-')));
}

/** A driver whose applies first await `beforeWrite` (fencing): a rejection means the write is never sent. */
function withFence(driver: DnsDriver, beforeWrite: () => Promise<void>): DnsDriver {
  return wrapDriver(driver, {
    async applyChanges(zone, changes, signal) {
      await beforeWrite();
      return driver.applyChanges(zone, changes, signal);
    },
  });
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
