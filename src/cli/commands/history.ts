import type { Command } from 'commander';
import { AUDIT_KINDS } from '../../domain/audit.ts';
import { parseDuration } from '../../domain/duration.ts';
import { UsageError } from '../../domain/errors.ts';
import { openStateStore, specFrom, stackOptions, type StackOpts } from '../common.ts';
import { escapeControl, makeOut } from '../output.ts';

export function registerHistory(program: Command): void {
  stackOptions(program.command('history'))
    .description('The audit log: every decision, apply, override and error, oldest first.')
    .option('--since <duration>', 'only events newer than this (e.g. 30m, 1h, 2d)', '24h')
    .option('--kind <kind>', `only events of this kind (${AUDIT_KINDS.join(', ')})`)
    .addHelpText('after', '\nExamples:\n  flotilla history --stack local --since 1h\n  flotilla history --stack local --kind override --json\n')
    .action(async (o: StackOpts & { since: string; kind?: string }) => {
      const out = makeOut(!!o.json);
      const ms = parseDuration(o.since);
      if (ms === undefined) throw new UsageError(`--since expects a duration like 30m or 2h, found ${JSON.stringify(o.since)}`);
      if (o.kind !== undefined && !(AUDIT_KINDS as readonly string[]).includes(o.kind)) throw new UsageError(`--kind expects one of ${AUDIT_KINDS.join(', ')}; found ${JSON.stringify(o.kind)}`);
      const spec = await specFrom(o);
      const events = (await openStateStore(spec).audit(Date.now() - ms)).filter((e) => !o.kind || e.kind === o.kind);
      out.data({ stack: spec.stack, events });
      if (events.length === 0) out.log(`no events in the last ${o.since}`);
      for (const e of events) out.log(escapeControl(`${new Date(e.at).toISOString()}  ${e.kind.padEnd(15)} ${e.actor ? `[${e.actor}] ` : ''}${e.message}`));
    });
}
