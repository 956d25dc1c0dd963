import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.ts';
import { zonesOf } from '../../domain/fleet-spec.ts';
import { createDriver } from '../../drivers/registry.ts';
import { specFrom, stackOptions, type StackOpts } from '../common.ts';
import { makeOut, table } from '../output.ts';

export function registerRecords(program: Command): void {
  stackOptions(program.command('records'))
    .description("Dump what every DNS provider holds now, side by side (asks each provider's API).")
    .option('-p, --provider <name>', 'only this provider')
    .addHelpText('after', '\nExamples:\n  flotilla records --stack local\n  flotilla records --stack example --provider cloudflare --json\n')
    .action(async (o: StackOpts & { provider?: string }) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      const providers = spec.dnsProviders.filter((p) => !o.provider || p.name === o.provider);
      if (providers.length === 0) throw new UsageError(`no DNS provider named ${JSON.stringify(o.provider)}; known: ${spec.dnsProviders.map((p) => p.name).join(', ')}`);
      const result = await Promise.all(
        providers.map(async (p) => {
          const d = await createDriver(p, { env: process.env, stateDir: spec.state.path });
          try {
            const zones = await Promise.all(zonesOf(spec).map(async (zone) => {
              try {
                return { zone, records: await d.listRecords(zone) };
              } catch (e) {
                return { zone, error: (e as Error).message };
              }
            }));
            return { provider: p.name, kind: p.kind, zones };
          } finally {
            await d.close?.();
          }
        }),
      );
      out.data({ stack: spec.stack, providers: result });
      let failed = false;
      for (const p of result) {
        for (const z of p.zones) {
          out.log(`\n${p.provider} (${p.kind}) zone ${z.zone}`);
          if ('error' in z) { failed = true; out.log(`  ERROR: ${z.error}`); continue; }
          out.log(table(['name', 'type', 'ttl', 'values'], z.records!.map((r) => [r.name, r.type, r.ttl, r.values.join(' ')])));
        }
      }
      process.exitCode = failed ? 1 : 0;
    });
}
