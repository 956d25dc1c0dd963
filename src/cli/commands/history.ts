import type { Command } from 'commander';
import { AUDIT_KINDS, type AuditEvent } from '../../domain/audit.ts';
import { parseDuration } from '../../domain/duration.ts';
import { UsageError } from '../../domain/errors.ts';
import { openStateStore, specFrom, stackOptions, type StackOpts } from '../common.ts';
import { escapeControl, makeOut } from '../output.ts';

type Opts = StackOpts & { since: string; kind?: string; limit: string; before?: string };

export function registerHistory(program: Command): void {
  stackOptions(program.command('history'))
    .description('The audit log: every decision, apply, override and error, oldest first (the newest --limit of them; --before pages back).')
    .option('--since <duration>', 'only events newer than this (e.g. 30m, 1h, 2d)', '24h')
    .option('--kind <kind>', `only events of this kind (${AUDIT_KINDS.join(', ')})`)
    .option('--limit <n>', 'at most this many events (the newest)', '1000')
    .option('--before <cursor>', 'continue with the events before this cursor (printed at the end of a page)')
    .addHelpText('after', '\nExamples:\n  flotilla history --stack local --since 1h\n  flotilla history --stack local --kind override --json\n  flotilla history --stack local --limit 50 --before 3:1048576\n')
    .action(async (o: Opts) => {
      const out = makeOut(!!o.json);
      const ms = parseDuration(o.since);
      if (ms === undefined) throw new UsageError(`--since expects a duration like 30m or 2h, found ${JSON.stringify(o.since)}`);
      if (!/^\d{1,6}$/.test(o.limit) || Number(o.limit) < 1) throw new UsageError(`--limit expects a whole number from 1 to 999999, found ${JSON.stringify(o.limit)}`);
      const limit = Number(o.limit);
      if (o.kind !== undefined && !(AUDIT_KINDS as readonly string[]).includes(o.kind)) throw new UsageError(`--kind expects one of ${AUDIT_KINDS.join(', ')}; found ${JSON.stringify(o.kind)}`);
      const spec = await specFrom(o);
      const store = openStateStore(spec);
      // page back until `limit` events of the kind asked for, or the start of the window
      const events: AuditEvent[] = [];
      let skipped = 0;
      let before = o.before;
      let next: string | undefined;
      do {
        const page = await store.auditPage({ since: Date.now() - ms, before, limit: limit - events.length });
        skipped += page.skipped;
        events.unshift(...page.events.filter((e) => !o.kind || e.kind === o.kind));
        before = next = page.next;
      } while (next !== undefined && events.length < limit);
      out.data({ stack: spec.stack, events, skipped, next });
      if (skipped > 0) out.err(`warning: ${skipped} line(s) of the audit log are not events (torn by a crash or edited by hand) and were skipped`);
      if (events.length === 0) out.log(`no events in the last ${o.since}`);
      for (const e of events) out.log(escapeControl(`${new Date(e.at).toISOString()}  ${e.kind.padEnd(15)} ${e.actor ? `[${e.actor}] ` : ''}${e.message}`));
      if (next !== undefined) out.log(`(older events: --before ${next})`);
    });
}
