import type { AuditEvent } from '../domain/audit.ts';
import { rrsetKey, type RecordSet } from '../domain/records.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import { isMarkerName } from '../planner/ownership.ts';
import { conflictKeys, type ZoneReport } from './reconcile.ts';
import { verifyAll, type DnsQueryFn, type ServerVerdict } from './verify.ts';

/**
 * The halves of one provider pass that the daemon and `flotilla apply` share (after reconcileAll has listed,
 * planned and applied): verifying what was written at every authoritative server, and the audit text of it all.
 */

/** The RRsets a provider must answer after its pass: the desired ones, minus markers and those a foreign record holds. */
export function expectedAfter(zones: Record<string, RecordSet[]>, reports: readonly ZoneReport[]): RecordSet[] {
  const blocked = conflictKeys(reports);
  return Object.values(zones).flat().filter((r) => !isMarkerName(r.name) && !blocked.has(rrsetKey(r)));
}

/**
 * Polls every authoritative server of `driver` until it answers what was written. The deadline runs from now (the
 * write has finished); `ms` in the verdicts counts from `decidedAt`, so it is the convergence time of the decision.
 */
export async function verifyProvider(o: { driver: DnsDriver; zones: Record<string, RecordSet[]>; reports: readonly ZoneReport[]; query: DnsQueryFn; decidedAt: number; deadlineMs: number; signal?: AbortSignal; now?: () => number }): Promise<ServerVerdict[]> {
  const servers = new Set<string>();
  for (const zone of Object.keys(o.zones)) {
    try {
      for (const s of await o.driver.nameservers(zone)) servers.add(s);
    } catch {
      /* reported by the apply path */
    }
  }
  const targets = [{ provider: o.driver.name, servers: [...servers], expect: expectedAfter(o.zones, o.reports) }];
  return verifyAll({ targets, query: o.query, startedAt: o.decidedAt, deadlineMs: o.deadlineMs, now: o.now, signal: o.signal });
}

type EventBody = Omit<AuditEvent, 'at'>;

/** The audit event of one zone's apply or failure (undefined when nothing was written). `suffix` marks who did it. */
export function applyEvent(r: ZoneReport, suffix = ''): EventBody | undefined {
  if (!r.ok) return { kind: 'apply-error', message: r.error ?? 'failed', data: { provider: r.provider, zone: r.zone, code: r.errorCode } };
  if (r.applied === 0) return undefined;
  return { kind: 'apply', message: `${r.provider} ${r.zone}: ${r.applied} change(s)${suffix}`, data: { provider: r.provider, zone: r.zone, changes: r.plan?.changes.length, ms: Math.round(r.ms) } };
}

/** The audit event of one provider's verification. */
export function verifyEvent(provider: string, serving: readonly string[], verify: readonly ServerVerdict[], reports: readonly ZoneReport[]): EventBody {
  const blocked = conflictKeys(reports);
  const unverified = blocked.size > 0 ? ` (not verified, held by a foreign record: ${[...blocked].sort().join(', ')})` : '';
  return {
    kind: 'verify',
    message: verify.every((v) => v.converged)
      ? `${provider}: all ${verify.length} authoritative server(s) answer ${serving.join(', ')}, ${Math.round(Math.max(0, ...verify.map((v) => v.ms ?? 0)))}ms after the decision${unverified}`
      : `${provider}: not converged: ${verify.filter((v) => !v.converged).map((v) => `${v.server}: ${v.last}`).join('; ')}`,
    data: { provider, servers: verify.map((v) => ({ server: v.server, converged: v.converged, ms: v.ms === undefined ? undefined : Math.round(v.ms) })) },
  };
}

/** Decision → last server converged (ms), when every server converged. */
export function convergeMs(verify: readonly ServerVerdict[]): number | undefined {
  return verify.length > 0 && verify.every((v) => v.converged) ? Math.max(...verify.map((v) => v.ms ?? 0)) : undefined;
}
