import type { Command } from 'commander';
import { directQuery } from '../../controller/dns-query.ts';
import { checkCanaries } from '../../controller/canaries.ts';
import { applyEvent, convergeMs, verifyEvent, verifyProvider } from '../../controller/provider-pass.ts';
import { reconcileAll } from '../../controller/reconcile.ts';
import type { ServerVerdict } from '../../controller/verify.ts';
import { PlanRefusedError } from '../../domain/errors.ts';
import { createDrivers } from '../../drivers/registry.ts';
import { decide } from '../../controller/decide.ts';
import { clusterView } from '../../state/open-store.ts';
import { updateState } from '../../state/state-store.ts';
import { openStateStore, specFrom, stackOptions, whoami, type StackOpts } from '../common.ts';
import { runningController } from '../running-controller.ts';
import { makeOut, table } from '../output.ts';
import { ensureLocalZones } from '../runtime.ts';

export function registerApply(program: Command): void {
  stackOptions(program.command('apply'))
    .description('Write the desired records to every DNS provider once (what the daemon does on each decision), then verify every authoritative server. --dry-run shows the changes only; --force lets a change delete more than policy.maxRemoveShare of a zone, write while every canary fails (fail static), or write beside a running daemon (the leader, on etcd).')
    .option('--dry-run', 'list and plan at every provider, change nothing')
    .option('--force', 'allow a plan that deletes more than policy.maxRemoveShare of a zone, writing while every canary fails, or writing beside a running daemon')
    .addHelpText('after', '\nExamples:\n  flotilla apply --stack local --dry-run\n  flotilla apply --stack local --force\n')
    .action(async (o: StackOpts & { dryRun?: boolean; force?: boolean }) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      const store = openStateStore(spec);
      const st = await store.load();
      const now = Date.now();
      const view = await clusterView(spec, st);
      // one writer: a daemon leading the stack converges every provider to this same decision already
      const leads = view.leader ? `vantage ${view.leader.vantage} leads this stack (since ${new Date(view.leader.since).toISOString()})` : view.kind === 'solo' ? soloDaemon(runningController(st, now), now) : undefined;
      if (leads && !o.dryRun && !o.force) throw new PlanRefusedError(`${leads} and converges every provider to the same decision: \`flotilla apply\` would be a second writer beside it. Change what is served with drain or failover (the leader obeys them), or --force to write anyway`);
      if (!o.dryRun) await ensureLocalZones(spec);
      const drivers = await createDrivers(spec.dnsProviders, { env: process.env, stateDir: spec.state.path });
      const actor = whoami();
      try {
        // the daemon's rail: when every canary fails, this machine is probably the one cut off (fail static)
        const canaries = spec.canaries.length > 0 ? await checkCanaries(spec.canaries, Math.max(spec.health.timeoutMs, 200)) : undefined;
        const cutOff = !!canaries && canaries.results.every((x) => !x.ok);
        const cutOffWhy = cutOff ? `every canary failed (${canaries!.results.map((x) => `${x.target}: ${x.reason}`).join('; ')}): this machine looks cut off` : undefined;
        // the daemon's decision: quorum of the live vantages, overrides, fail open, fail static (decide.ts)
        const decision = decide({ spec, vantages: view.vantages, overrides: st.overrides, now, lastGood: st.lastGood, inventory: st.inventory, blocked: cutOffWhy });
        const desired = decision.desired;
        if (decision.failStatic && !o.dryRun && !o.force) throw new PlanRefusedError(`fail static: ${decision.failStatic}; changing nothing (--force writes anyway)`);
        if (decision.failStatic) out.log(`note: fail static: ${decision.failStatic}`);
        if (!o.dryRun) await store.append({ at: now, kind: 'decision', actor, message: `apply by hand: serve ${desired.serving.join(', ')}${o.force ? ` (--force${leads ? `, while ${leads}` : ''})` : ''}`, data: { serving: desired.serving } });
        const reports = await reconcileAll({ drivers, zones: desired.zones, ownerId: spec.policy.ownerId, maxRemoveShare: spec.policy.maxRemoveShare, force: o.force, dryRun: o.dryRun, attribution: desired });
        for (const r of reports) {
          const ev = o.dryRun ? undefined : applyEvent(r, ' (by hand)');
          if (ev) await store.append({ at: Date.now(), actor, ...ev });
        }
        let verify: ServerVerdict[] = [];
        if (!o.dryRun) {
          // the same verification as the daemon's: what was written, at every authoritative server, timed from the decision
          const passes = await Promise.all(drivers.map(async (d) => {
            const mine = reports.filter((r) => r.provider === d.name);
            if (!mine.every((r) => r.ok)) return [];
            const v = await verifyProvider({ driver: d, zones: desired.zones, reports: mine, query: directQuery, decidedAt: now, deadlineMs: 10_000 });
            await store.append({ at: Date.now(), actor, ...verifyEvent(d.name, desired.serving, v, mine) });
            return v;
          }));
          verify = passes.flat();
          await updateState(store, (s) => {
            for (const r of reports) if (r.ok) s.providers[r.provider] = { ...s.providers[r.provider], records: { ...(s.providers[r.provider]?.records ?? {}), [r.zone]: r.records ?? [] }, lastAppliedAt: Date.now(), lastError: undefined, lastErrorCode: undefined };
          });
        }
        const converged = convergeMs(verify);
        out.data({ stack: spec.stack, dryRun: !!o.dryRun, serving: desired.serving, reports: reports.map(({ records: _r, ...x }) => x), verify, convergeMs: converged, cutOff });
        for (const r of reports) {
          out.log(`${r.provider} ${r.zone}: ${r.ok ? (o.dryRun ? `${r.plan?.changes.length ?? 0} change(s) would be made` : `${r.applied} change(s) applied`) : `FAILED: ${r.error}`}`);
          for (const c of r.plan?.changes ?? []) {
            const x = c.action === 'delete' ? c.before : c.after;
            out.log(`  ${c.action.padEnd(6)} ${x.name} ${x.type} ${x.values.join(' ')}`);
          }
          for (const c of r.plan?.conflicts ?? []) out.log(`  conflict: ${c.reason}`);
          for (const k of r.plan?.kept ?? []) out.log(`  kept: ${k.reason}`);
        }
        if (converged !== undefined) out.log(`\nevery authoritative server answers ${desired.serving.join(', ')}, ${Math.round(converged)}ms after the decision`);
        if (verify.length > 0) out.log('\n' + table(['provider', 'server', 'converged', 'ms', 'last'], verify.map((v) => [v.provider, v.server, v.converged ? 'yes' : 'NO', v.ms === undefined ? '' : Math.round(v.ms), v.last ?? ''])));
        process.exitCode = reports.every((r) => r.ok) && verify.every((v) => v.converged) ? 0 : 1;
      } finally {
        await Promise.all(drivers.map((d) => d.close?.()));
      }
    });
}

/** How a refusal names the daemon saving on a file state (runningController), if one is. */
function soloDaemon(c: ReturnType<typeof runningController>, now: number): string | undefined {
  return c && `a flotilla daemon (pid ${c.pid} on ${c.host}) runs on this stack's state (its last save ${Math.round((now - c.at) / 1000)} s ago)`;
}
