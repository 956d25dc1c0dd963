import type { Command } from 'commander';
import { makeOut } from '../output.ts';
import { specFrom, stackOptions, type StackOpts } from '../common.ts';

export function registerValidate(program: Command): void {
  stackOptions(program.command('validate'))
    .description('Check a stack file: every problem at once, with the path in the file. Exit 2 when it is wrong.')
    .addHelpText('after', '\nExamples:\n  flotilla validate --stack example\n  flotilla validate --config stacks/Pulumi.local.yaml\n')
    .action(async (o: StackOpts) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      out.data({ ok: true, file: spec.file, stack: spec.stack, mirrors: spec.mirrors.length, dnsProviders: spec.dnsProviders.length, digest: spec.site.digest });
      out.log(`${spec.file}: ok`);
      out.log(`  ${spec.mirrors.length} mirror(s): ${spec.mirrors.map((m) => `${m.name} (${m.provider})`).join(', ')}`);
      out.log(`  ${spec.dnsProviders.length} DNS provider(s): ${spec.dnsProviders.map((p) => `${p.name} (${p.kind})`).join(', ')}`);
      out.log(`  site ${spec.site.name}: ${Object.keys(spec.site.files).filter((f) => f !== '/').length} file(s), digest ${spec.site.digest.slice(0, 16)}…`);
    });
}
