import type { AuditEvent } from '../domain/audit.ts';
import type { CertsSpec, FleetSpec } from '../domain/fleet-spec.ts';
import type { Inventory } from '../domain/inventory.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import type { DnsQueryFn } from '../controller/verify.ts';
import type { Fence } from '../state/cluster.ts';
import type { LockHold } from '../state/secret-store.ts';
import { issueCertificate, type Issued } from './acme-issue.ts';
import { certNames } from './cert-plan.ts';
import { CertError } from './cert-error.ts';
import type { CertStatus, CertStore } from './cert-store.ts';
import { deployAll, deploySummary, type DeployOutcome } from './cert-deploy.ts';
import { firstUseAudit } from './pinned-ssh.ts';
import { nextAttemptAt, renewDecision } from './renewal.ts';

export interface CertJobDeps {
  spec: Pick<FleetSpec, 'domain' | 'alternateDomains' | 'mirrors' | 'policy' | 'deploy'> & { certs: CertsSpec };
  /** The mirror inventory, read when the certificate is deployed (addresses of the hosts Pulumi created). */
  inventory?: () => Promise<Inventory | undefined>;
  drivers: readonly DnsDriver[];
  query: DnsQueryFn;
  store: CertStore;
  /** Writes one audit event (the CLI's store.append, the daemon's controller.audit). */
  audit: (e: Omit<AuditEvent, 'at'>) => Promise<unknown>;
  log?: (line: string) => void;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
  /** Replaces the SSH deploy to every mirror (tests). */
  deploy?: (pair: { cert: string; key: string }) => Promise<DeployOutcome[]>;
  directoryCa?: string;
  signal?: AbortSignal;
  /** Who may write while the job runs (the daemon on etcd: the leader's fence); absent: only the order lock guards. */
  guard?: WriteGuard;
}

/**
 * A writer's proof that it may still write. check() is awaited right before every challenge TXT write and rejects
 * (FencedError, NOT_LEADER) once it may not; fences() are compared in the same etcd transaction as every
 * certificate-store save (throwing there refuses the save).
 */
export interface WriteGuard {
  check(): Promise<void>;
  fences(): readonly Fence[];
}

export type CertJobResult =
  | { action: 'issued'; issued: Issued; deployed: DeployOutcome[]; status: CertStatus }
  | { action: 'not-due'; reason: string; renewsAt: number; status: CertStatus }
  | { action: 'backing-off'; reason: string; status: CertStatus }
  | { action: 'failed'; reason: string; code: string; status: CertStatus };

/**
 * One run of `certs issue` (force: order now) or `certs renew` / the daemon's check (order only when due, and not
 * before the backoff after a failure has passed). Records the outcome in the certificate status, audits it
 * (`cert` on issue, `cert-error` on failure — an alerting kind), then deploys a new certificate to every mirror.
 * Never throws for a CA or DNS failure: that is a `failed` value with the reason, and the next attempt backs off.
 * Throws (recording nothing) when a fenced write was refused (NOT_LEADER: deposed, or the order lock was lost) or
 * `signal` aborted; a store fault or a lock not taken in time throws too.
 */
export async function runCertJob(mode: 'issue' | 'renew', d: CertJobDeps): Promise<CertJobResult> {
  // one order at a time per stack (a `certs issue` beside the daemons, a `certs renew` from cron): the second waits,
  // then finds it done. On etcd the lock is an etcd key under a lease, and every write also proves it still holds it.
  let waitedSince: number | undefined;
  const onWait = (holder: string) => {
    waitedSince = Date.now();
    d.log?.(`waiting for the certificate order lock, held by ${holder}`);
  };
  return d.store.secrets.exclusive('acme-order', (hold) => {
    if (waitedSince !== undefined) d.log?.(`took the certificate order lock after ${Math.round((Date.now() - waitedSince) / 1000)} s`);
    return runLocked(mode, underHold(d, hold));
  }, ORDER_LOCK_MS, { onWait, signal: d.signal });
}

/** The job's writes fenced by the lock it holds and by its guard (both must still hold). */
function underHold(d: CertJobDeps, hold: LockHold): CertJobDeps {
  const guard: WriteGuard = {
    async check() {
      await hold.confirm();
      await d.guard?.check();
    },
    fences: () => [...(hold.fence ? [hold.fence] : []), ...(d.guard?.fences() ?? [])],
  };
  return { ...d, guard, store: d.store.fenced(guard.fences) };
}

/** Not a certificate failure: this process may no longer write (deposed, lock lost) or was told to stop. */
export function stoppedWriting(e: unknown, signal?: AbortSignal): boolean {
  return (e as { code?: string })?.code === 'NOT_LEADER' || signal?.aborted === true;
}

/** Longest wait for another order of the same stack: every authoritative server's timeout and the CA's, with room. */
const ORDER_LOCK_MS = 45 * 60_000;

async function runLocked(mode: 'issue' | 'renew', d: CertJobDeps): Promise<CertJobResult> {
  const now = d.now ?? Date.now;
  const names = certNames(d.spec);
  const sealed = await d.store.sealPlaintext();
  if (sealed.length > 0) d.log?.(`sealed ${sealed.length} secret(s) that etcd held in plaintext: ${sealed.join(', ')}`);
  const prior = await d.store.status();
  const status: CertStatus = prior ?? { names, directory: d.spec.certs.directory, failures: 0 };
  const have = status.notAfter !== undefined && status.notBefore !== undefined ? { notBefore: status.notBefore, notAfter: status.notAfter } : undefined;
  const sameNames = status.names.join(',') === names.join(',') && status.directory === d.spec.certs.directory;
  if (mode === 'renew') {
    const decision = sameNames ? renewDecision(have, now(), d.spec.certs.renewAt) : { renew: true as const, reason: 'the names or the directory changed' };
    if (!decision.renew) return { action: 'not-due', reason: decision.reason, renewsAt: decision.nextCheckAt, status };
    if (status.nextAttemptAt !== undefined && now() < status.nextAttemptAt) {
      return { action: 'backing-off', reason: `${status.failures} failure(s) in a row (last: ${status.lastError ?? 'unknown'}); next attempt ${new Date(status.nextAttemptAt).toISOString()}`, status };
    }
  }
  status.lastAttemptAt = now();
  let issued: Issued;
  try {
    issued = await issueCertificate({ spec: d.spec, store: d.store, drivers: d.drivers, ownerId: d.spec.policy.ownerId, query: d.query, verifyTimeoutMs: d.spec.certs.verifyTimeoutMs, directoryUrl: d.spec.certs.directory, email: d.spec.certs.email, directoryCa: d.directoryCa, log: d.log, signal: d.signal, beforeWrite: d.guard && (() => d.guard!.check()) });
  } catch (e) {
    // no failure to record (and no right to record it): the new leader or lock holder carries on
    if (stoppedWriting(e, d.signal)) throw e;
    const code = e instanceof CertError ? e.code : 'CERT_CA';
    const reason = (e as Error)?.message ?? String(e);
    // names and directory stay those of the certificate held (a changed name set stays due until one is issued)
    const failed: CertStatus = { ...status, failures: status.failures + 1, lastError: reason };
    failed.nextAttemptAt = nextAttemptAt(failed.failures, now());
    await d.store.saveStatus(failed);
    await d.audit({ kind: 'cert-error', message: `certificate for ${names.join(', ')} not issued: ${reason}`, data: { code, failures: failed.failures, nextAttemptAt: failed.nextAttemptAt } });
    return { action: 'failed', reason, code, status: failed };
  }
  const done: CertStatus = { names, directory: d.spec.certs.directory, notBefore: issued.notBefore, notAfter: issued.notAfter, serial: issued.serial, issuedAt: now(), failures: 0, lastAttemptAt: status.lastAttemptAt, deployed: status.deployed };
  await d.store.saveStatus(done);
  await d.audit({ kind: 'cert', message: `certificate issued for ${names.join(', ')}: serial ${issued.serial}, valid until ${new Date(issued.notAfter).toISOString()}`, data: { serial: issued.serial, notAfter: issued.notAfter, publishMs: issued.publishMs } });
  const pair = (await d.store.certificate())!;
  await d.guard?.check(); // a deposed leader pushes nothing to the mirrors either
  const deployed = await (d.deploy ?? (async (p) => deployAll(d.spec, p, { env: d.env ?? process.env, secrets: d.store.secrets, signal: d.signal, inventory: await d.inventory?.() })))(pair);
  done.deployed = { ...(done.deployed ?? {}) };
  done.deploySummary = deploySummary(deployed);
  for (const r of deployed) {
    // a skipped mirror keeps no record of an older serial: it does not have this certificate
    if (r.skipped) done.deployed[r.mirror] = { at: now(), skipped: true, error: r.error };
    else done.deployed[r.mirror] = r.ok ? { at: now(), serial: issued.serial } : { at: now(), error: r.error };
    if (!r.ok) await d.audit({ kind: 'cert-error', message: `certificate not deployed to ${r.mirror} (it keeps its old one): ${r.error}`, data: { code: r.code ?? 'CERT_DEPLOY', mirror: r.mirror, ...(r.hostKey ? { hostKey: r.hostKey } : {}) } });
    const pinned = firstUseAudit(r.hostKey);
    if (pinned) await d.audit(pinned);
  }
  if (deployed.some((r) => r.skipped)) await d.audit({ kind: 'cert', message: `certificate ${issued.serial} ${done.deploySummary}`, data: { serial: issued.serial, skipped: deployed.filter((r) => r.skipped).map((r) => r.mirror) } });
  await d.store.saveStatus(done);
  return { action: 'issued', issued, deployed, status: done };
}
