import type { Command } from 'commander';
import { runOverrideCommand, type OverrideCommand } from '../../controller/overrides.ts';
import { formatDuration } from '../../domain/duration.ts';
import { UsageError } from '../../domain/errors.ts';
import type { FleetSpec } from '../../domain/fleet-spec.ts';
import { CONTROLLER_SAVE_INTERVAL_MS, type State } from '../../domain/state.ts';
import { runningController } from '../running-controller.ts';
import { openStateStore, specFrom, stackOptions, whoami, type StackOpts } from '../common.ts';
import { makeOut } from '../output.ts';

type Opts = StackOpts & { reason?: string; for?: string; force?: boolean; to?: string };

/** Runs a responder command through the one override path (audit first, then the version-checked save). */
async function run(o: Opts, build: (author: string) => OverrideCommand): Promise<void> {
  const out = makeOut(!!o.json);
  const spec = await specFrom(o);
  const store = openStateStore(spec);
  const before = await store.load();
  const r = await runOverrideCommand({ store, spec, audit: (e) => store.append(e) }, build(whoami()));
  out.data({ stack: spec.stack, changed: r.changed, message: r.message, override: r.override, removed: r.removed });
  out.log(r.message);
  // whole seconds: the time spent saving is not part of what the responder asked for (`--for 1m` is "1m", not "59.996s")
  if (r.override?.expiresAt) out.log(`expires in ${formatDuration(Math.round((r.override.expiresAt - Date.now()) / 1000) * 1000)} (${new Date(r.override.expiresAt).toISOString()})`);
  if (r.changed) out.log(takesEffect(before, spec, Date.now()));
}

/** Says who will act on the override: never a promise that a daemon picks it up when none is running on this state. */
export function takesEffect(state: State, spec: FleetSpec, now: number): string {
  const c = runningController(state, now);
  if (c) {
    return `the running controller (pid ${c.pid} on ${c.host}, saved ${formatDuration(Math.max(0, now - c.at))} ago) picks this up within a second`;
  }
  const where = spec.state.kind === 'file' ? spec.state.path : `etcd (${spec.state.endpoints.join(', ')})`;
  return `no controller has saved this stack's state (${where}) in the last ${formatDuration(2 * CONTROLLER_SAVE_INTERVAL_MS)}: the override is recorded and takes effect when \`flotilla daemon --stack ${spec.stack}\` runs on this state`;
}

function needReason(o: Opts, what: string): string {
  if (!o.reason?.trim()) throw new UsageError(`${what} needs --reason "..." (it goes into the audit log)`);
  return o.reason;
}

export function registerOverrides(program: Command): void {
  stackOptions(program.command('drain').argument('<mirror>', 'mirror name'))
    .description('Take a mirror out of every answer, with a reason and an optional expiry. Draining the last serving mirror needs --force.')
    .option('-r, --reason <text>', 'why (required; audited)')
    .option('--for <duration>', 'lapse after this long, e.g. 2h')
    .option('--force', 'allow draining the last serving mirror (the drain is recorded but the answer is never emptied)')
    .addHelpText('after', '\nExamples:\n  flotilla drain local-b --stack local --reason "kernel upgrade" --for 2h\n')
    .action((mirror: string, o: Opts) => run(o, (author) => ({ kind: 'drain', mirror, reason: needReason(o, 'drain'), author, for: o.for, force: o.force })));

  stackOptions(program.command('undrain').argument('<mirror>', 'mirror name'))
    .description('Put a drained mirror back (it serves again once healthy).')
    .addHelpText('after', '\nExamples:\n  flotilla undrain local-b --stack local\n')
    .action((mirror: string, o: Opts) => run(o, (author) => ({ kind: 'undrain', mirror, author })));

  // the mirror is a flag; a bare name is caught to point at --to instead of commander's "too many arguments"
  stackOptions(program.command('failover').allowExcessArguments())
    .description('Force all traffic to one mirror, with a reason and an optional expiry. A mirror that is down needs --force.')
    .option('--to <mirror>', 'the mirror that takes all traffic (required)')
    .option('-r, --reason <text>', 'why (required; audited)')
    .option('--for <duration>', 'lapse after this long, e.g. 30m')
    .option('--force', 'allow failing over to a mirror that looks down')
    .addHelpText('after', '\nExamples:\n  flotilla failover --to local-a --stack local --reason "b and c serve a stale release" --for 30m\n  flotilla undrain / clear with: flotilla clear local-a --stack local\n')
    .action((o: Opts, cmd: Command) => {
      const [mirror] = cmd.args;
      if (mirror !== undefined) throw new UsageError(`failover takes the mirror as --to ${mirror}, e.g. flotilla failover --to ${mirror} --reason "..." (found it as an argument)`);
      if (!o.to) throw new UsageError('failover needs --to MIRROR');
      return run(o, (author) => ({ kind: 'failover', mirror: o.to!, reason: needReason(o, 'failover'), author, for: o.for, force: o.force }));
    });

  stackOptions(program.command('clear').argument('<mirror>', 'mirror name'))
    .description('Remove every open override (drain or failover) of a mirror.')
    .addHelpText('after', '\nExamples:\n  flotilla clear local-a --stack local\n')
    .action((mirror: string, o: Opts) => run(o, (author) => ({ kind: 'clear', mirror, author })));
}
