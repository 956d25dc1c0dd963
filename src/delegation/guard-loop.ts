import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { DnsDriver } from '../drivers/dns-driver.ts';
import { createRegistrar } from '../registrars/registry.ts';
import type { RegistrarDriver } from '../registrars/registrar-driver.ts';
import { checkDomains, type DomainReport } from './check-domains.ts';
import { DelegationGuard, type GuardEvent, type GuardMemory } from './delegation-guard.ts';

/** Who may act with several controllers (the daemon's Cluster): only the leader runs rounds, each write fenced. */
export interface GuardRole {
  isLeader(): boolean;
  /** Resolves only while this controller still leads (see Cluster.fence). */
  fence(): Promise<void>;
}

export interface GuardLoop {
  stop(): Promise<void>;
  /** The guard's memory (after stop(): final), for a loop started from a reloaded spec. */
  memory(): GuardMemory;
}

/**
 * Runs the delegation guard every `delegation.intervalMs` for the daemon (not at all when it is 0). Rounds never
 * overlap; stop() waits for the round in flight. With a `role` (several controllers), a round runs only while this
 * controller leads, and every registrar write first asks role.fence(): one writer at the registrar, as at the DNS
 * providers. A controller that stops leading forgets its streaks and what it told: when it leads again, what it
 * remembers may be stale (another leader may have pruned, restored or told since), so it starts afresh. `check`
 * replaces the round's look at the parents and registries (checkDomains), e.g. with recorded reports.
 */
export async function startGuardLoop(spec: FleetSpec, o: { drivers: readonly DnsDriver[]; env: Record<string, string | undefined>; onEvent: (e: GuardEvent) => Promise<void> | void; resume?: GuardMemory; role?: GuardRole; check?: () => Promise<DomainReport[]> }): Promise<GuardLoop | undefined> {
  const d = spec.delegation;
  if (!d || d.intervalMs <= 0) return undefined;
  const registrars = new Map<string, RegistrarDriver>();
  for (const r of spec.registrars) {
    const driver = await createRegistrar(r, o.env);
    if (driver) registrars.set(r.domain, driver);
  }
  const byName = new Map(o.drivers.map((x) => [x.name, x]));
  const fresh = (resume?: GuardMemory) => new DelegationGuard({
    check: o.check ?? (() => checkDomains(spec, d, { providerNameservers: async (p, zone) => (byName.get(p) ? byName.get(p)!.nameservers(zone) : []) })),
    registrarFor: (zone) => registrars.get(zone),
    settings: { pruneAfter: d.pruneAfter, restoreAfter: d.restoreAfter },
    onEvent: o.onEvent,
    resume,
    fence: o.role ? () => o.role!.fence() : undefined,
  });
  let guard = fresh(o.resume);
  let led = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;
  /** One round if this controller leads; whether it ran. */
  const round = async (): Promise<boolean> => {
    if (o.role && !o.role.isLeader()) {
      if (led) guard = fresh();
      led = false;
      return false;
    }
    led = true;
    await guard.round();
    return true;
  };
  const tick = () => {
    let ran = true;
    inFlight = round().then((r) => { ran = r; }).finally(() => {
      inFlight = undefined;
      // a follower looks again within a second, so a newly elected leader takes up the watch at once
      if (!stopped) timer = setTimeout(tick, ran ? d.intervalMs : Math.min(d.intervalMs, 1000));
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
