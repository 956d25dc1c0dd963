import type { RegistrarDriver } from '../registrars/registrar-driver.ts';
import type { DomainReport } from './check-domains.ts';
import { planDelegation, type PrunePlan, type PruneSettings, type ProviderStreak } from './prune-plan.ts';

export interface GuardEvent {
  kind: 'prune' | 'restore' | 'held' | 'lost' | 'recovered' | 'registry' | 'error';
  zone: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface DelegationGuardOptions {
  /** One check of every domain (checkDomains, bound to the spec and drivers). */
  check: () => Promise<DomainReport[]>;
  /** The registrar that can set each zone's delegation at run time, if any. */
  registrarFor: (zone: string) => RegistrarDriver | undefined;
  settings: PruneSettings;
  /** Decide and report, write nothing. */
  dryRun?: boolean;
  /** Told of every transition once (audit and alerts are wired by the caller). */
  onEvent: (e: GuardEvent) => Promise<void> | void;
  /** Another guard's memory (a reload): its streaks go on and what it already told is not told again. */
  resume?: GuardMemory;
  /**
   * Proof that this controller may still write, asked right before each registrar write (with several controllers:
   * the cluster's fence, so a leader deposed while a round ran writes nothing). A rejection is an error event, nothing
   * is written, and the change is planned again next round. Absent: nothing to prove (one controller).
   */
  fence?: () => Promise<void>;
}

/** What a guard keeps between rounds (streaks, and what it has told: lost, held, registry notes). */
export interface GuardMemory {
  streaks: Record<string, Record<string, ProviderStreak>>;
  lost: [string, boolean][];
  held: [string, string | undefined][];
  registry: [string, string][];
}

export interface GuardRound {
  reports: DomainReport[];
  plans: PrunePlan[];
}

/**
 * Watches every domain's delegation and keeps it to the providers that answer: prunes a lost provider's nameservers
 * at the registrar after `pruneAfter` lame checks, restores them after `restoreAfter` good ones, and reports a lost
 * domain once. The decisions are planDelegation's; this class only keeps the streaks between rounds and does I/O.
 */
export class DelegationGuard {
  private streaks: Record<string, Record<string, ProviderStreak>> = {};
  private lost = new Map<string, boolean>();
  private held = new Map<string, string | undefined>();
  private registry = new Map<string, string>();

  constructor(private readonly o: DelegationGuardOptions) {
    const m = o.resume ? structuredClone(o.resume) : undefined;
    if (m) {
      this.streaks = m.streaks;
      this.lost = new Map(m.lost);
      this.held = new Map(m.held);
      this.registry = new Map(m.registry);
    }
  }

  /** A copy of what this guard remembers, for the guard that replaces it. */
  memory(): GuardMemory {
    return structuredClone({ streaks: this.streaks, lost: [...this.lost], held: [...this.held], registry: [...this.registry] });
  }

  /** One round: check, plan, act. Never throws: failures are events and the next round retries. */
  async round(): Promise<GuardRound> {
    let reports: DomainReport[];
    try {
      reports = await this.o.check();
    } catch (e) {
      await this.o.onEvent({ kind: 'error', zone: '*', message: `delegation check failed: ${(e as Error).message}` });
      return { reports: [], plans: [] };
    }
    const plans: PrunePlan[] = [];
    for (const r of reports) {
      const v = r.verdict;
      const wasLost = this.lost.get(r.zone) ?? false;
      // a registry hold, pending delete or redemption takes the domain out of the DNS even while the parent still
      // lists it (or until the parent's zone is rebuilt): lost too
      const registryProblems = r.registry.ok ? r.registry.status.problems : [];
      const registryNote = r.registry.ok ? [...registryProblems, ...(r.registry.status.expiringSoon && r.registry.status.daysLeft !== undefined && r.registry.status.daysLeft >= 0 ? [`the registration expires in ${r.registry.status.daysLeft} day(s)`] : [])].join('; ') : '';
      if (registryNote !== (this.registry.get(r.zone) ?? '') && r.registry.ok) {
        this.registry.set(r.zone, registryNote);
        if (registryNote) await this.o.onEvent({ kind: 'registry', zone: r.zone, message: `${r.zone} at its registry: ${registryNote}`, data: { statuses: r.registry.status.statuses, problems: registryProblems, expiresAt: r.registry.status.expiresAt } });
      }
      // an unreachable parent decides nothing about the delegation; the registry may still say the domain is held
      const isLost = registryProblems.length > 0 || (v.state === 'parent-unreachable' ? wasLost : v.lost);
      if (isLost !== wasLost) {
        this.lost.set(r.zone, isLost);
        const reasons = [...(v.lost ? v.reasons : []), ...registryProblems];
        await this.o.onEvent(isLost ? { kind: 'lost', zone: r.zone, message: `${r.zone} is lost: ${reasons.join('; ')}`, data: { state: v.state, reason: reasons.join('; '), registry: registryProblems } } : { kind: 'recovered', zone: r.zone, message: `${r.zone} is delegated to our nameservers again and not held at its registry` });
      }
      const prev = this.streaks[r.zone] ?? {};
      const plan = planDelegation(v, r.expected, prev, this.o.settings);
      plans.push(plan);
      if (plan.held !== this.held.get(r.zone)) {
        this.held.set(r.zone, plan.held);
        if (plan.held) await this.o.onEvent({ kind: 'held', zone: r.zone, message: `${r.zone}: ${plan.held}` });
      }
      if (!plan.change) {
        this.streaks[r.zone] = plan.streaks;
        continue;
      }
      const applied = await this.apply(r.zone, plan);
      // a write that did not happen is planned again next round: keep the old pruned flags, the new counts
      this.streaks[r.zone] = applied ? plan.streaks : Object.fromEntries(Object.entries(plan.streaks).map(([k, s]) => [k, { ...s, pruned: prev[k]?.pruned ?? false }]));
    }
    return { reports, plans };
  }

  private async apply(zone: string, plan: PrunePlan): Promise<boolean> {
    const what = [plan.pruned.length ? `prune ${plan.pruned.join(', ')}` : '', plan.restored.length ? `restore ${plan.restored.join(', ')}` : ''].filter(Boolean).join(' and ') || 'align the delegation';
    const registrar = this.o.registrarFor(zone);
    const data = { pruned: plan.pruned, restored: plan.restored, nameservers: plan.nameservers };
    if (!registrar) {
      await this.o.onEvent({ kind: 'held', zone, message: `${zone}: would ${what}, but no registrar flotilla can set is configured for it: set the NS at your registrar to ${plan.nameservers.join(', ')}`, data });
      return false;
    }
    // never more names than the registrar takes (the stack schema holds the delegated total within it; this is the rail)
    if (plan.nameservers.length > registrar.maxNameservers) {
      await this.o.onEvent({ kind: 'held', zone, message: `${zone}: would ${what}, but ${registrar.name} accepts at most ${registrar.maxNameservers} nameservers (${plan.nameservers.length} planned)`, data });
      return false;
    }
    if (this.o.dryRun) {
      await this.o.onEvent({ kind: plan.pruned.length ? 'prune' : 'restore', zone, message: `${zone}: dry run: would ${what} at ${registrar.name}: NS ${plan.nameservers.join(', ')}`, data: { ...data, dryRun: true } });
      return false;
    }
    try {
      await this.o.fence?.();
    } catch (e) {
      await this.o.onEvent({ kind: 'error', zone, message: `${zone}: did not ${what} at ${registrar.name}: ${(e as Error).message}`, data });
      return false;
    }
    try {
      await registrar.setNameservers(zone, plan.nameservers);
      const now = await registrar.getNameservers(zone);
      if (now.join(',') !== [...plan.nameservers].sort().join(',')) throw new Error(`${registrar.name} holds ${now.join(', ')} after the change`);
    } catch (e) {
      await this.o.onEvent({ kind: 'error', zone, message: `${zone}: could not ${what} at ${registrar.name}: ${(e as Error).message}`, data });
      return false;
    }
    await this.o.onEvent({ kind: plan.pruned.length ? 'prune' : 'restore', zone, message: `${zone}: ${what} at ${registrar.name}: NS now ${plan.nameservers.join(', ')}`, data });
    return true;
  }
}
