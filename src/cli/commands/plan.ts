import type { Command } from 'commander';
import { formatDuration } from '../../domain/duration.ts';
import { zonesOf, type FleetSpec } from '../../domain/fleet-spec.ts';
import { describeAddresses, knownMirrors } from '../../domain/inventory.ts';
import type { State } from '../../domain/state.ts';
import { desiredRecords } from '../../planner/desired-records.ts';
import { providerCapabilities } from '../../drivers/registry.ts';
import { planChanges } from '../../planner/plan-changes.ts';
import { shapeForProvider } from '../../planner/shape-for-provider.ts';
import { openStateStore, specFrom, stackOptions, type StackOpts } from '../common.ts';
import { makeOut, table } from '../output.ts';

/** The plan for every provider and zone, from the state's view of what each provider holds. Pure. */
export function buildPlan(spec: FleetSpec, state: State, now: number, force = false) {
  const desired = desiredRecords(spec, state.health, state.overrides, { now, lastGood: state.lastGood, inventory: state.inventory });
  const shapeNotes = new Set<string>();
  const providers = spec.dnsProviders.map((p) => ({
    provider: p.name,
    kind: p.kind,
    zones: zonesOf(spec).map((zone) => {
      const known = state.providers[p.name]?.records?.[zone];
      // as the controller writes them: TTL floors raised, unsupported types refused
      const shaped = shapeForProvider(desired.zones[zone] ?? [], providerCapabilities(p.kind), p.name);
      for (const n of shaped.notes) shapeNotes.add(n);
      const plan = planChanges(known ?? [], shaped.records, { ownerId: spec.policy.ownerId, maxRemoveShare: spec.policy.maxRemoveShare, force, attribution: desired });
      return { zone, currentKnown: known !== undefined, desired: shaped.records, ...plan };
    }),
  }));
  const h = spec.health;
  const detectMs = h.intervalMs * (h.fall - 1) + h.timeoutMs;
  // the slowest provider sets the worst case: a floor above policy.ttl is what resolvers get there
  const ttl = Math.max(spec.policy.ttl, ...spec.dnsProviders.map((p) => providerCapabilities(p.kind).minTtl));
  return {
    mirrors: knownMirrors(spec, state.inventory),
    serving: desired.serving,
    failOpen: desired.failOpen,
    degraded: desired.degraded,
    notes: [...desired.notes, ...shapeNotes],
    providers,
    failover: {
      detectMs,
      ttlSeconds: ttl,
      worstCaseClientMs: detectMs + h.intervalMs + ttl * 1000,
      explanation:
        `a dead mirror is detected after about ${formatDuration(detectMs)} (interval ${formatDuration(h.intervalMs)} × (fall ${h.fall} − 1) + timeout ${formatDuration(h.timeoutMs)}), ` +
        `then removed at every authoritative server; resolvers may keep the old answer for the TTL (${ttl}s) on top`,
    },
  };
}

export function registerPlan(program: Command): void {
  stackOptions(program.command('plan'))
    .description('Show the records every DNS provider should hold and the changes from what the state says is there now.')
    .option('--force', 'plan as if --force were given (no share-of-zone refusal)')
    .addHelpText('after', '\nExamples:\n  flotilla plan --stack local\n  flotilla plan --stack local --json\n')
    .action(async (o: StackOpts & { force?: boolean }) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      const state = await openStateStore(spec).load();
      const plan = buildPlan(spec, state, Date.now(), !!o.force);
      out.data({ stack: spec.stack, ...plan });
      out.log(table(['mirror', 'host', 'addresses', 'from'], plan.mirrors.map((m) => [m.name, m.provider, describeAddresses(m), m.source === 'stack-file' ? 'stack file' : m.source === 'pulumi' ? 'pulumi outputs' : ''])));
      out.log(`serving: ${plan.serving.join(', ') || '(none)'}${plan.failOpen ? '  (FAIL OPEN)' : ''}`);
      for (const n of plan.notes) out.log(`  note: ${n}`);
      for (const p of plan.providers) {
        for (const z of p.zones) {
          out.log(`\n${p.provider} (${p.kind}) zone ${z.zone}${z.currentKnown ? '' : '  [no record of what it holds yet: all creates]'}`);
          out.log(table(['name', 'type', 'ttl', 'values'], z.desired.map((r) => [r.name, r.type, r.ttl, r.values.join(' ')])));
          if (z.changes.length === 0) out.log('  no changes');
          for (const c of z.changes) {
            const r = c.action === 'delete' ? c.before : c.after;
            out.log(`  ${c.action.padEnd(6)} ${r.name} ${r.type} ${r.values.join(' ')}`);
          }
          for (const c of z.conflicts) out.log(`  conflict: ${c.reason}`);
          for (const k of z.kept ?? []) out.log(`  kept (removal refused): ${k.reason}`);
          if (z.refused) out.log(`  REFUSED: ${z.refused}`);
        }
      }
      out.log(`\nfailover time: ${plan.failover.explanation}; worst case for a client ≈ ${formatDuration(plan.failover.worstCaseClientMs)}`);
    });
}

