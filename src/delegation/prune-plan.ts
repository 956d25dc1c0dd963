import type { DelegationVerdict } from './delegation-verdict.ts';

/** How many checks in a row decide: a provider leaves the delegation after `pruneAfter` lame checks, returns after `restoreAfter` good ones. */
export interface PruneSettings {
  pruneAfter: number;
  restoreAfter: number;
}

export interface ProviderStreak {
  lame: number;
  answering: number;
  /** Its nameservers were taken out of the delegation by flotilla. */
  pruned: boolean;
}

export interface PrunePlan {
  zone: string;
  /** The NS set the parent should hold; equal to what it holds when nothing is to change. */
  nameservers: string[];
  change: boolean;
  pruned: string[];
  restored: string[];
  /** Why nothing was done, when something looked wrong (not ours, parent unreachable, last provider). */
  held?: string;
  streaks: Record<string, ProviderStreak>;
}

/**
 * The delegation the parent should hold after this check. Pure. Rails: hysteresis both ways; never touch a
 * delegation that is not ours (foreign NS, or none of ours); never leave fewer than one answering provider; never
 * decide when the parent did not answer.
 */
export function planDelegation(v: DelegationVerdict, expected: readonly { provider: string; nameservers: string[]; others?: string[] }[], prev: Record<string, ProviderStreak>, s: PruneSettings): PrunePlan {
  const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');
  const keep = (held: string): PrunePlan => ({ zone: v.zone, nameservers: v.parentNs, change: false, pruned: [], restored: [], held, streaks: prev });
  if (v.state === 'parent-unreachable') return keep('the parent did not answer: no decision');
  if (v.foreignNs.length > 0) return keep(`the delegation lists nameservers that are not ours (${v.foreignNs.join(', ')}): never touched`);
  if (v.state === 'delegation-gone') return keep('the parent holds no delegation: a registrar or registry matter, never re-created by pruning');

  const streaks: Record<string, ProviderStreak> = {};
  const works = new Map<string, boolean>();
  for (const p of v.providers) {
    const ok = p.nameservers.some((n) => n.answering);
    works.set(p.provider, ok);
    const before = prev[p.provider] ?? { lame: 0, answering: 0, pruned: p.state === 'not-delegated' && p.nameservers.length > 0 && !p.nameservers.some((n) => n.delegated) };
    streaks[p.provider] = { pruned: before.pruned, lame: ok ? 0 : before.lame + 1, answering: ok ? before.answering + 1 : 0 };
  }
  const pruned: string[] = [];
  const restored: string[] = [];
  for (const [name, st] of Object.entries(streaks)) {
    if (!st.pruned && st.lame >= s.pruneAfter) pruned.push(name);
    if (st.pruned && st.answering >= s.restoreAfter) restored.push(name);
  }
  const inAfter = (name: string) => (streaks[name].pruned ? restored.includes(name) : !pruned.includes(name));
  const answeringLeft = expected.filter((p) => inAfter(p.provider) && works.get(p.provider));
  let held: string | undefined;
  if (answeringLeft.length === 0 && pruned.length > 0) {
    // pruning would leave no working provider listed: keep the delegation as it is and say so
    held = `every provider is lame (${pruned.join(', ')}): nothing pruned, at least one provider stays listed`;
    pruned.length = 0;
  }
  for (const n of pruned) streaks[n] = { ...streaks[n], pruned: true };
  for (const n of restored) streaks[n] = { ...streaks[n], pruned: false };
  const listed = expected.filter((p) => !streaks[p.provider]?.pruned);
  // each listed provider's delegated subset (check-domains.ts): what `pulumi up` delegates, so the total stays within
  // the registrar's limit the stack schema checked; the guard still refuses to write more than the registrar takes
  const nameservers = [...new Set(listed.flatMap((p) => p.nameservers.map(norm)))].sort();
  const change = nameservers.join(',') !== [...v.parentNs].sort().join(',');
  return { zone: v.zone, nameservers, change, pruned, restored, held, streaks };
}
