import type { Command } from 'commander';
import { checkDomains, type DomainReport } from '../../delegation/check-domains.ts';
import { planDelegation, type PrunePlan } from '../../delegation/prune-plan.ts';
import type { DelegationSpec, FleetSpec } from '../../domain/fleet-spec.ts';
import { createDriver } from '../../drivers/registry.ts';
import type { DnsDriver } from '../../drivers/dns-driver.ts';
import { specFrom, stackOptions, type StackOpts } from '../common.ts';
import { makeOut, table } from '../output.ts';

export function registerDomains(program: Command): void {
  stackOptions(program.command('domains'))
    .description("Every domain's delegation as expected vs seen at the parent zone, each provider's nameservers (answering / lame), registry status and expiry (RDAP).")
    .addHelpText(
      'after',
      '\nThe parent zone is asked directly (delegation.parents, or found from the root servers), never through a resolver.\nExit 0 when every domain is healthy, 1 when any is lost, lame, changed, held or about to expire.\n\nExamples:\n  flotilla domains --stack example\n  flotilla domains --stack local --json\n',
    )
    .action(async (o: StackOpts) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      const drivers = new Map<string, Promise<DnsDriver>>();
      const driverOf = (name: string) => {
        if (!drivers.has(name)) drivers.set(name, createDriver(spec.dnsProviders.find((p) => p.name === name)!, { env: process.env, stateDir: spec.state.path }));
        return drivers.get(name)!;
      };
      try {
        const reports = await checkDomains(spec, spec.delegation!, { providerNameservers: async (p, zone) => (await driverOf(p)).nameservers(zone) });
        const plans = reports.map((r) => dryRun(r, spec));
        out.data({ stack: spec.stack, domains: reports.map((r, i) => ({ ...r, plan: plans[i] })) });
        reports.forEach((r, i) => render(r, plans[i], spec.delegation!, out.log));
        process.exitCode = reports.every(healthy) ? 0 : 1;
      } finally {
        await Promise.all([...drivers.values()].map((d) => d.then((x) => x.close?.()).catch(() => undefined)));
      }
    });
}

function healthy(r: DomainReport): boolean {
  return r.verdict.state === 'healthy' && r.registry.ok && r.registry.status.problems.length === 0 && !r.registry.status.expiringSoon;
}

/** What the daemon's delegation guard would do if this check held for pruneAfter / restoreAfter checks in a row. */
function dryRun(r: DomainReport, spec: FleetSpec): PrunePlan & { registrar?: string } {
  const registrar = spec.registrars.find((x) => x.domain === r.zone);
  const plan = planDelegation(r.verdict, r.expected, {}, { pruneAfter: 1, restoreAfter: 1 });
  return { ...plan, registrar: registrar ? `${registrar.name} (${registrar.kind})` : undefined };
}

function render(r: DomainReport, plan: ReturnType<typeof dryRun>, d: DelegationSpec, log: (l?: string) => void): void {
  const v = r.verdict;
  log(`\n${r.zone}: ${v.state}${v.lost ? ' — LOST' : ''}   (parent: ${r.parents.join(', ') || 'not found'})`);
  for (const reason of v.reasons) log(`  · ${reason}`);
  log(`  at the parent: ${v.parentNs.join(', ') || 'none'}${v.missingNs.length ? `   ours not listed: ${v.missingNs.join(', ')}` : ''}`);
  const rows = v.providers.flatMap((p) => (p.nameservers.length === 0 ? [[p.provider, p.state, '(no NS names known: set delegation.nameservers)', '', '']] : p.nameservers.map((n) => [p.provider, p.state, n.name, n.delegated ? 'yes' : 'no', n.answering ? `answering (${n.reason})` : `LAME: ${n.reason}`])));
  for (const f of v.foreignNs) rows.push(['(not ours)', '', f, 'yes', '']);
  log(table(['provider', 'state', 'nameserver', 'delegated', 'answer'], rows));
  if (plan.held) log(`  plan: nothing to change: ${plan.held}`);
  else if (plan.change) {
    const what = [plan.pruned.length ? `prune ${plan.pruned.join(', ')} (after ${d.pruneAfter} lame checks)` : '', plan.restored.length ? `restore ${plan.restored.join(', ')} (after ${d.restoreAfter} good checks)` : ''].filter(Boolean).join(' and ');
    const who = plan.registrar ?? 'no registrar configured: by hand';
    log(`  plan (dry run): ${what || 'align the delegation'} at ${who}: NS ${plan.nameservers.join(', ')}${d.intervalMs === 0 ? ' — the daemon does not watch (delegation.interval is 0s)' : ''}`);
  }
  if (!r.registry.ok) log(`  registry: unknown (${r.registry.error})`);
  else {
    const s = r.registry.status;
    const exp = s.expiresAt === undefined ? 'no expiry date published' : `expires ${new Date(s.expiresAt).toISOString().slice(0, 10)} (${s.daysLeft} days${s.expiringSoon ? ': RENEW NOW' : ''})`;
    log(`  registry: ${s.statuses.join(', ') || 'no status'}; ${exp}`);
    for (const p of s.problems) log(`  ! ${p}`);
  }
}
