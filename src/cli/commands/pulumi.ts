import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.ts';
import { specFrom, stackOptions, type StackOpts } from '../common.ts';
import { makeOut } from '../output.ts';
import { runPulumi } from '../pulumi-runner.ts';

export function registerPulumi(program: Command): void {
  stackOptions(program.command('preview'))
    .description('Show what `pulumi up` would create. With --mock, runs the Pulumi program in-process under mocks (no cloud account, no Pulumi CLI).')
    .option('--mock', 'run in-process under Pulumi mocks instead of calling the pulumi CLI')
    .addHelpText('after', '\nExamples:\n  flotilla preview --mock --stack example\n  flotilla preview --mock --stack example --json\n  flotilla preview --stack example   (needs the pulumi CLI)\n')
    .action(async (o: StackOpts & { mock?: boolean }) => {
      const spec = await specFrom(o);
      if (!o.mock) {
        process.exitCode = await runPulumi({ verb: 'preview', stack: spec.stack, projectDir: spec.projectDir });
        return;
      }
      const out = makeOut(!!o.json);
      const { mockPreview, renderPreview } = await import('../../infra/mock-preview.ts');
      const result = await mockPreview({ spec });
      out.data({ ...result, stack: spec.stack });
      out.log(renderPreview(result.resources));
      for (const l of result.log) out.err(`${l.level}: ${l.message}`);
    });

  for (const verb of ['up', 'destroy'] as const) {
    stackOptions(program.command(verb))
      .description(verb === 'up' ? 'Deploy the mirrors, zones, records and registrar settings with the pulumi CLI.' : 'Tear the stack down with the pulumi CLI.')
      .option('-y, --yes', 'do not ask for confirmation')
      .addHelpText('after', `\nExample:\n  flotilla ${verb} --stack example\n`)
      .action(async (o: StackOpts & { yes?: boolean }) => {
        const spec = await specFrom(o);
        if (!o.stack) throw new UsageError(`flotilla ${verb} needs --stack NAME (pulumi works on named stacks)`);
        process.exitCode = await runPulumi({ verb, stack: spec.stack, projectDir: spec.projectDir, yes: o.yes });
      });
  }
}
