import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import { createRegistrar } from '../registrars/registry.ts';
import type { RegistrarDriver } from '../registrars/registrar-driver.ts';
import { checkDomains } from './check-domains.ts';
import { DelegationGuard, type GuardEvent, type GuardMemory } from './delegation-guard.ts';

export interface GuardLoop {
  stop(): Promise<void>;
  /** The guard's memory (after stop(): final), for a loop started from a reloaded spec. */
  memory(): GuardMemory;
}

/**
 * Runs the delegation guard every `delegation.intervalMs` for the daemon (not at all when it is 0). Rounds never
 * overlap; stop() waits for the round in flight.
 */
export async function startGuardLoop(spec: FleetSpec, o: { drivers: readonly DnsDriver[]; env: Record<string, string | undefined>; onEvent: (e: GuardEvent) => Promise<void> | void; resume?: GuardMemory }): Promise<GuardLoop | undefined> {
  const d = spec.delegation;
  if (!d || d.intervalMs <= 0) return undefined;
  const registrars = new Map<string, RegistrarDriver>();
  for (const r of spec.registrars) {
    const driver = await createRegistrar(r, o.env);
    if (driver) registrars.set(r.domain, driver);
  }
  const byName = new Map(o.drivers.map((x) => [x.name, x]));
  const guard = new DelegationGuard({
    check: () => checkDomains(spec, d, { providerNameservers: async (p, zone) => (byName.get(p) ? byName.get(p)!.nameservers(zone) : []) }),
    registrarFor: (zone) => registrars.get(zone),
    settings: { pruneAfter: d.pruneAfter, restoreAfter: d.restoreAfter },
    onEvent: o.onEvent,
    resume: o.resume,
  });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;
  const tick = () => {
    inFlight = guard.round().finally(() => {
      inFlight = undefined;
      if (!stopped) timer = setTimeout(tick, d.intervalMs);
    });
  };
  tick();
  return {
    memory: () => guard.memory(),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight?.catch(() => undefined);
      await Promise.all([...registrars.values()].map((r) => r.close?.()));
    },
  };
}
