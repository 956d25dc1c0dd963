import type { AuditEvent } from '../domain/audit.ts';
import type { CertsSpec, FleetSpec } from '../domain/fleet-spec.ts';
import type { Inventory } from '../domain/inventory.ts';
import { deployAll, deploySummary, type DeployOutcome, type DeployRecord } from './cert-deploy.ts';
import type { CertStatus, CertStore } from './cert-store.ts';
import { firstUseAudit } from './pinned-ssh.ts';

export interface DeployHeldOptions {
  spec: Pick<FleetSpec, 'domain' | 'alternateDomains' | 'mirrors' | 'deploy'> & Partial<Pick<FleetSpec, 'stack'>> & { certs: CertsSpec };
  store: CertStore;
  env: NodeJS.ProcessEnv;
  inventory?: Inventory;
  audit: (e: Omit<AuditEvent, 'at'>) => Promise<unknown>;
  /** Only these mirrors (the one just trusted); every target when absent. */
  only?: readonly string[];
  /** nginx listen addresses instead of 443/80 (tests on loopback). */
  listen?: { https?: string[]; http?: string[] };
  now?: () => number;
  signal?: AbortSignal;
}

/**
 * `flotilla certs deploy` (and `certs trust` after pinning): deploys the certificate already held to the mirrors,
 * without ordering a new one; records each outcome in the certificate status like an issuance does and audits
 * failures (`cert-error`, alerting), keys pinned on first use and successes (`cert`). Holds the order lock, so it
 * never interleaves with an issuance of the same stack. Undefined when no certificate is held yet.
 */
export function deployHeld(o: DeployHeldOptions): Promise<{ outcomes: DeployOutcome[]; status: CertStatus } | undefined> {
  return o.store.secrets.exclusive('acme-order', async () => {
    const now = o.now ?? Date.now;
    const [pair, status] = await Promise.all([o.store.certificate(), o.store.status()]);
    if (!pair || !status?.serial) return undefined;
    const outcomes = await deployAll(o.spec, pair, { env: o.env, secrets: o.store.secrets, inventory: o.inventory, only: o.only, listen: o.listen, signal: o.signal });
    const deployed: Record<string, DeployRecord> = { ...(status.deployed ?? {}) };
    for (const r of outcomes) {
      deployed[r.mirror] = r.skipped ? { at: now(), skipped: true, error: r.error } : r.ok ? { at: now(), serial: status.serial } : { at: now(), error: r.error };
      const pinned = firstUseAudit(r.hostKey);
      if (pinned) await o.audit(pinned);
      if (!r.ok) await o.audit({ kind: 'cert-error', message: `certificate not deployed to ${r.mirror} (it keeps its old one): ${r.error}`, data: { code: r.code ?? 'CERT_DEPLOY', mirror: r.mirror, ...(r.hostKey ? { hostKey: r.hostKey } : {}) } });
      else if (!r.skipped) await o.audit({ kind: 'cert', message: `certificate ${status.serial} deployed to ${r.mirror}`, data: { serial: status.serial, mirror: r.mirror } });
    }
    // the summary covers every mirror of the stack, not only those deployed to now
    const all = o.spec.mirrors.flatMap((m): DeployOutcome[] => {
      const d = deployed[m.name];
      return d ? [{ mirror: m.name, ok: !d.error || !!d.skipped, skipped: d.skipped, error: d.error }] : [];
    });
    const next: CertStatus = { ...status, deployed, deploySummary: deploySummary(all) };
    await o.store.saveStatus(next);
    return { outcomes, status: next };
  }, 45 * 60_000);
}
