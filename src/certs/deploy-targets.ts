import type { FleetSpec, MirrorProvider } from '../domain/fleet-spec.ts';
import { knownMirrors, notProvisionedReason, type Inventory, type InventorySource } from '../domain/inventory.ts';
import { mirrorSshKeyEnv, mirrorSshUser } from '../domain/mirror-login.ts';

/** One mirror the certificate goes to over SSH, as plain data (the key stays in its environment variable). */
export interface DeployTarget {
  mirror: string;
  provider: MirrorProvider;
  host: string;
  port: number;
  user: string;
  /** The environment variable holding the private key. */
  keyEnv: string;
  /** Where the address came from: the stack file (boxes you run) or the inventory (hosts Pulumi created). */
  addressFrom: InventorySource;
}

export interface SkippedMirror {
  mirror: string;
  reason: string;
}

/**
 * Where the site's certificate is deployed: every provisioned mirror of kind ssh, aws or hcloud, at its address from
 * the stack file or else the stored inventory, with the login the Pulumi deploy step uses (mirror-login.ts). Every
 * other mirror is skipped with the reason. `settings.sshPort` (not in the stack schema; tests) overrides port 22. Pure.
 */
export function deployTargets(spec: Pick<FleetSpec, 'mirrors' | 'deploy'>, inventory: Inventory | undefined): { targets: DeployTarget[]; skipped: SkippedMirror[] } {
  const targets: DeployTarget[] = [];
  const skipped: SkippedMirror[] = [];
  const byName = new Map(spec.mirrors.map((m) => [m.name, m]));
  for (const k of knownMirrors(spec, inventory)) {
    const m = byName.get(k.name)!;
    if (m.provider === 'local') {
      skipped.push({ mirror: k.name, reason: 'a local mirror (a process on this machine) has no nginx to deploy to' });
      continue;
    }
    const host = k.ipv4 ?? k.ipv6;
    if (!k.provisioned || !host) {
      skipped.push({ mirror: k.name, reason: notProvisionedReason(k.name) });
      continue;
    }
    const keyEnv = mirrorSshKeyEnv(m, spec);
    if (!keyEnv) {
      skipped.push({ mirror: k.name, reason: 'no sshKeyEnv: the environment variable holding its SSH key' });
      continue;
    }
    const port = typeof m.settings.sshPort === 'number' ? m.settings.sshPort : 22;
    targets.push({ mirror: k.name, provider: m.provider, host, port, user: mirrorSshUser(m), keyEnv, addressFrom: k.source ?? 'stack-file' });
  }
  return { targets, skipped };
}
