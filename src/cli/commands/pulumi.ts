import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.ts';
import { openStateStore, specFrom, stackOptions, type StackOpts } from '../common.ts';
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
      .description(verb === 'up' ? 'Deploy the mirrors, zones, records and registrar settings with the pulumi CLI, then save the mirror inventory from the stack outputs.' : 'Tear the stack down with the pulumi CLI, then clear the mirror inventory (the hosts and their addresses are gone).')
      .option('-y, --yes', 'do not ask for confirmation')
      .addHelpText('after', `\nExample:\n  flotilla ${verb} --stack example\n`)
      .action(async (o: StackOpts & { yes?: boolean }) => {
        const spec = await specFrom(o);
        if (!o.stack) throw new UsageError(`flotilla ${verb} needs --stack NAME (pulumi works on named stacks)`);
        const code = await runPulumi({ verb, stack: spec.stack, projectDir: spec.projectDir, yes: o.yes });
        process.exitCode = code;
        const out = makeOut(!!o.json);
        if (code !== 0) {
          // a destroy that failed part way may have released some hosts already, while the outputs still list them
          if (verb === 'destroy') out.err(`pulumi destroy failed (exit ${code}): the saved inventory is unchanged, but some hosts may be gone and their addresses released; the controller keeps probing the addresses it lists (a host that is gone fails its probes and leaves the answer, while whoever gets its address next may answer them): run \`flotilla inventory refresh --stack ${spec.stack}\` once the stack is settled, or drain those mirrors`);
          return;
        }
        // the controller learns where the hosts are from the outputs of a successful deploy, and that they are gone
        // from those of a successful destroy (none): a released cloud address may be handed to somebody else
        const { refreshInventory } = await import('./inventory.ts');
        const store = openStateStore(spec);
        try {
          const inv = await refreshInventory(spec, store, Date.now(), verb === 'destroy' ? 'destroy' : undefined);
          const n = Object.keys(inv.mirrors).length;
          out.err(verb === 'up' || n > 0
            ? `mirror inventory saved: ${n} mirror(s) from the stack outputs (\`flotilla inventory --stack ${spec.stack}\` shows it)`
            : `mirror inventory cleared: the stack has no outputs after the destroy, so the controller (a running daemon, or the next \`flotilla apply\`) takes every cloud host's address out of DNS; mirrors with an address in the stack file stay`);
        } finally {
          await store.close?.();
        }
      });
  }
}
