import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import { verifyProvider } from '../controller/provider-pass.ts';
import { reconcileAll, type ZoneReport } from '../controller/reconcile.ts';
import type { DnsQueryFn, ServerVerdict } from '../controller/verify.ts';
import { StateError } from '../domain/errors.ts';
import { challengeOwner, challengeRecords } from './cert-plan.ts';

/** What the challenge pass needs: the stack's drivers and the verification query (the controller's own rails). */
export interface ChallengeRails {
  drivers: readonly DnsDriver[];
  ownerId: string;
  query: DnsQueryFn;
  verifyTimeoutMs: number;
  signal?: AbortSignal;
  /** Awaited right before every challenge TXT write, adding and removing (fencing: a rejection means nothing is written). */
  beforeWrite?: () => Promise<void>;
}

export type PublishOutcome =
  | { ok: true; verify: ServerVerdict[]; ms: number }
  | { ok: false; reason: string; reports: ZoneReport[]; verify: ServerVerdict[] };

/**
 * Publishes the `_acme-challenge` TXT values at EVERY DNS provider of every zone through the controller's provider
 * pass (list → plan with ownership markers → apply with retry), then waits until every authoritative server of every
 * provider answers them. Not ok when any provider failed, a foreign record holds a challenge name, or a server did
 * not converge in time: the caller must not answer the challenge then (and must remove what was written). Throws
 * StateError NOT_LEADER when `beforeWrite` refused a write (nothing was written there).
 */
export async function publishChallenges(spec: Pick<FleetSpec, 'domain' | 'alternateDomains'>, values: readonly { name: string; value: string }[], r: ChallengeRails): Promise<PublishOutcome> {
  const t0 = Date.now();
  const zones = challengeRecords(spec, values, r.ownerId);
  const reports = await reconcileAll({ drivers: r.drivers, zones, ownerId: challengeOwner(r.ownerId), maxRemoveShare: 1, force: true, signal: r.signal, beforeWrite: r.beforeWrite });
  const failed = reports.filter((x) => !x.ok);
  // refused by the fence: this process may no longer write at all, which is not a DNS problem to back off from
  const fenced = failed.find((x) => x.errorCode === 'NOT_LEADER');
  if (fenced) throw new StateError('NOT_LEADER', fenced.error ?? 'challenge TXT write refused by the fence');
  const conflicts = reports.flatMap((x) => (x.plan?.conflicts ?? []).map((c) => `${x.provider}: ${c.reason}`));
  if (failed.length > 0 || conflicts.length > 0) {
    const why = [...failed.map((x) => `${x.provider} (zone ${x.zone}) failed: ${x.error ?? 'unknown error'}`), ...conflicts];
    return { ok: false, reason: `challenge not published at every DNS provider: ${why.join('; ')}`, reports, verify: [] };
  }
  const verify = (
    await Promise.all(
      r.drivers.map((driver) =>
        verifyProvider({ driver, zones, reports: reports.filter((x) => x.provider === driver.name), query: r.query, decidedAt: t0, deadlineMs: r.verifyTimeoutMs, signal: r.signal }),
      ),
    )
  ).flat();
  const behind = verify.filter((v) => !v.converged);
  if (behind.length > 0 || verify.length === 0) {
    const why = verify.length === 0 ? 'no authoritative server known' : behind.map((v) => `${v.provider} ${v.server}: ${v.last}`).join('; ');
    return { ok: false, reason: `challenge not answered by every authoritative server within ${r.verifyTimeoutMs}ms: ${why}`, reports, verify };
  }
  return { ok: true, verify, ms: Date.now() - t0 };
}

/**
 * Removes every challenge record (and its marker) this owner wrote, at every provider: after the CA validated,
 * and after any failure. Returns the providers where removal failed (empty when all is clean).
 */
export async function removeChallenges(spec: Pick<FleetSpec, 'domain' | 'alternateDomains'>, r: Omit<ChallengeRails, 'query' | 'verifyTimeoutMs'>): Promise<string[]> {
  const zones = challengeRecords(spec, [], r.ownerId);
  // fenced too: a deposed leader must not remove the challenge its successor is publishing under the same owner
  const reports = await reconcileAll({ drivers: r.drivers, zones, ownerId: challengeOwner(r.ownerId), maxRemoveShare: 1, force: true, attempts: 3, beforeWrite: r.beforeWrite });
  return reports.filter((x) => !x.ok).map((x) => `${x.provider} (zone ${x.zone}): ${x.error ?? 'failed'}`);
}
