import type { Command } from 'commander';
import { probeFleetOnce } from '../../controller/probe-fleet-once.ts';
import { specFrom, stackOptions, type StackOpts } from '../common.ts';
import { makeOut, table } from '../output.ts';

export function registerCheck(program: Command): void {
  stackOptions(program.command('check'))
    .description('Probe every mirror once and print a table of results and reasons. Exit 1 when any mirror fails. Reads and writes no state.')
    .addHelpText('after', '\nExamples:\n  flotilla check --stack local\n  flotilla check --stack example --json\n')
    .action(async (o: StackOpts) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      const results = await probeFleetOnce(spec);
      out.data({ stack: spec.stack, results });
      out.log(table(['mirror', 'result', 'latency', 'status', 'why'], results.map((r) => [r.mirror, r.ok ? 'ok' : 'FAIL', `${Math.round(r.latencyMs)}ms`, r.status, r.reason])));
      process.exitCode = results.every((r) => r.ok) ? 0 : 1;
    });
}
