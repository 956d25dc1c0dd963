import type { Command } from 'commander';
import { directQuery } from '../../controller/dns-query.ts';
import { conflictKeys, reconcileAll } from '../../controller/reconcile.ts';
import { verifyAll } from '../../controller/verify.ts';
import { createDrivers } from '../../drivers/registry.ts';
import { desiredRecords } from '../../planner/desired-records.ts';
import { isMarkerName } from '../../planner/ownership.ts';
import { rrsetKey } from '../../domain/records.ts';
import { updateState } from '../../state/state-store.ts';
import { openStateStore, specFrom, stackOptions, whoami, type StackOpts } from '../common.ts';
import { makeOut, table } from '../output.ts';
import { ensureLocalZones } from '../runtime.ts';

export function registerApply(program: Command): void {
  stackOptions(program.command('apply'))
    .description('Write the desired records to every DNS provider once (what the daemon does on each decision), then verify every authoritative server. --dry-run shows the changes only; --force lets a change delete more than policy.maxRemoveShare of a zone.')
    .option('--dry-run', 'list and plan at every provider, change nothing')
    .option('--force', 'allow a plan that deletes more than policy.maxRemoveShare of a zone')
    .addHelpText('after', '\nExamples:\n  flotilla apply --stack local --dry-run\n  flotilla apply --stack local --force\n')
    .action(async (o: StackOpts & { dryRun?: boolean; force?: boolean }) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      const store = openStateStore(spec);
      const st = await store.load();
      const now = Date.now();
      const desired = desiredRecords(spec, st.health, st.overrides, { now, lastGood: st.lastGood });
      if (!o.dryRun) await ensureLocalZones(spec);
      const drivers = await createDrivers(spec.dnsProviders, { env: process.env, stateDir: spec.state.path });
      const actor = whoami();
      try {
        if (!o.dryRun) await store.append({ at: now, kind: 'decision', actor, message: `apply by hand: serve ${desired.serving.join(', ')}${o.force ? ' (--force)' : ''}`, data: { serving: desired.serving } });
        const reports = await reconcileAll({ drivers, zones: desired.zones, ownerId: spec.policy.ownerId, maxRemoveShare: spec.policy.maxRemoveShare, force: o.force, dryRun: o.dryRun });
        for (const r of reports) {
          if (o.dryRun) continue;
          if (r.ok && r.applied > 0) await store.append({ at: Date.now(), kind: 'apply', actor, message: `${r.provider} ${r.zone}: ${r.applied} change(s) (by hand)`, data: { provider: r.provider, zone: r.zone } });
          if (!r.ok) await store.append({ at: Date.now(), kind: 'apply-error', actor, message: r.error ?? 'failed', data: { provider: r.provider, zone: r.zone, code: r.errorCode } });
        }
        let verify: Awaited<ReturnType<typeof verifyAll>> = [];
        if (!o.dryRun) {
          const okProviders = new Set(drivers.map((d) => d.name).filter((n) => reports.filter((r) => r.provider === n).every((r) => r.ok)));
          // only what was written is verified: an RRset held by a foreign record never answers ours
          const expectAt = (provider: string) => {
            const blocked = conflictKeys(reports.filter((r) => r.provider === provider));
            return Object.values(desired.zones).flat().filter((r) => !isMarkerName(r.name) && !blocked.has(rrsetKey(r)));
          };
          const targets = await Promise.all(drivers.filter((d) => okProviders.has(d.name)).map(async (d) => ({ provider: d.name, servers: [...new Set((await Promise.all(Object.keys(desired.zones).map((z) => d.nameservers(z).catch(() => [] as string[])))).flat())], expect: expectAt(d.name) })));
          verify = await verifyAll({ targets, query: directQuery, startedAt: Date.now(), deadlineMs: 10_000 });
          await updateState(store, (s) => {
            for (const r of reports) if (r.ok) s.providers[r.provider] = { ...s.providers[r.provider], records: { ...(s.providers[r.provider]?.records ?? {}), [r.zone]: r.records ?? [] }, lastAppliedAt: Date.now(), lastError: undefined };
          });
        }
        out.data({ stack: spec.stack, dryRun: !!o.dryRun, serving: desired.serving, reports: reports.map(({ records: _r, ...x }) => x), verify });
        for (const r of reports) {
          out.log(`${r.provider} ${r.zone}: ${r.ok ? (o.dryRun ? `${r.plan?.changes.length ?? 0} change(s) would be made` : `${r.applied} change(s) applied`) : `FAILED: ${r.error}`}`);
          for (const c of r.plan?.changes ?? []) {
            const x = c.action === 'delete' ? c.before : c.after;
            out.log(`  ${c.action.padEnd(6)} ${x.name} ${x.type} ${x.values.join(' ')}`);
          }
          for (const c of r.plan?.conflicts ?? []) out.log(`  conflict: ${c.reason}`);
        }
        if (verify.length > 0) out.log('\n' + table(['provider', 'server', 'converged', 'ms', 'last'], verify.map((v) => [v.provider, v.server, v.converged ? 'yes' : 'NO', v.ms === undefined ? '' : Math.round(v.ms), v.last ?? ''])));
        process.exitCode = reports.every((r) => r.ok) && verify.every((v) => v.converged) ? 0 : 1;
      } finally {
        await Promise.all(drivers.map((d) => d.close?.()));
      }
    });
}
