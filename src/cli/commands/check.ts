import type { Command } from 'commander';
import { probeFleetOnce } from '../../controller/probe-fleet-once.ts';
import { openStateStore, specFrom, stackOptions, type StackOpts } from '../common.ts';
import { makeOut, table } from '../output.ts';

export function registerCheck(program: Command): void {
  stackOptions(program.command('check'))
    .description('Probe every mirror once and print a table of results and reasons. Exit 1 when any mirror fails. Mirrors without a known address are reported as not provisioned, never probed. Reads the mirror inventory; writes no state.')
    .addHelpText('after', '\nExamples:\n  flotilla check --stack local\n  flotilla check --stack example --json\n')
    .action(async (o: StackOpts) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      // the inventory says where the hosts Pulumi created are (read only: check writes nothing)
      const inventory = (await openStateStore(spec).load()).inventory;
      const results = await probeFleetOnce(spec, undefined, inventory);
      out.data({ stack: spec.stack, results });
      out.log(table(['mirror', 'address', 'result', 'latency', 'status', 'why'], results.map((r) => [r.mirror, r.address, r.ok ? 'ok' : r.provisioned ? 'FAIL' : 'SKIPPED', `${Math.round(r.latencyMs)}ms`, r.status, r.reason])));
      process.exitCode = results.every((r) => r.ok) ? 0 : 1;
    });
}
