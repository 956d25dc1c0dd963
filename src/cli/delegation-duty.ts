import { join } from 'node:path';
import type { GuardEvent, GuardMemory } from '../delegation/delegation-guard.ts';
import { startGuardLoop, type GuardRole } from '../delegation/guard-loop.ts';
import type { AuditEvent } from '../domain/audit.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import type { StateStore } from '../state/state-store.ts';
import { createManifestPublisher, type ManifestPublisher } from './manifest-publisher.ts';

export interface DelegationDuty {
  publisher: ManifestPublisher;
  stop(): Promise<void>;
  /** The guard's memory, for the duty started from a reloaded spec (SIGHUP). */
  memory(): GuardMemory | undefined;
}

/**
 * The daemon's delegation duty: the guard loop (prune / restore / lost / registry) and the manifest publisher, every
 * guard event audited as `delegation` (and so alerted) and recorded in the state store. Undefined when the stack does
 * not watch delegations (delegation.interval 0s).
 */
export async function startDelegationDuty(spec: FleetSpec, o: {
  store: StateStore;
  drivers: readonly DnsDriver[];
  env: Record<string, string | undefined>;
  audit: (e: Omit<AuditEvent, 'at'>) => Promise<unknown>;
  /** Mirrors this process serves get each new manifest at once. */
  serve?: (json: string) => void | Promise<void>;
  onEvent?: (e: GuardEvent) => void;
  /** The replaced duty's guard memory: no repeated lost/registry alerts, streaks go on. */
  resume?: GuardMemory;
  /** Several controllers: only the leader watches and writes the delegation (its writes fenced). */
  role?: GuardRole;
}): Promise<DelegationDuty | undefined> {
  if ((spec.delegation?.intervalMs ?? 0) <= 0) return undefined;
  // the signed manifest also goes to <state dir>/publish/.well-known/flotilla.json (point a local web server there;
  // the deploy step copies it to SSH and cloud mirrors)
  const publisher = createManifestPublisher({ spec, store: o.store, env: o.env, audit: o.audit, serve: o.serve, publishDir: spec.state.kind === 'file' ? join(spec.state.path, 'publish') : undefined });
  await publisher.start();
  const loop = await startGuardLoop(spec, {
    drivers: o.drivers,
    env: o.env,
    onEvent: async (e) => {
      o.onEvent?.(e);
      await o.audit({ kind: 'delegation', message: e.message, data: { ...e.data, event: e.kind, zone: e.zone } });
      await publisher.onEvent(e);
    },
    resume: o.resume,
    role: o.role,
  });
  return { publisher, stop: async () => loop?.stop(), memory: () => loop?.memory() };
}
