import type { Command } from 'commander';
import { inventoryFromOutputs } from '../../config/inventory-from-outputs.ts';
import { UsageError } from '../../domain/errors.ts';
import type { FleetSpec } from '../../domain/fleet-spec.ts';
import { describeAddresses, knownMirrors, type Inventory } from '../../domain/inventory.ts';
import type { StateStore } from '../../state/state-store.ts';
import { updateState } from '../../state/state-store.ts';
import { openStateStore, specFrom, stackOptions, whoami, type StackOpts } from '../common.ts';
import { makeOut, table } from '../output.ts';
import { readStackOutputs } from '../pulumi-runner.ts';

/**
 * Reads the stack outputs with the pulumi CLI and saves them as the mirror inventory (audited first); `after` a
 * successful destroy, outputs with no host mark it destroyed (Inventory.destroyedAt). Nothing is
 * saved when pulumi fails (ToolFailedError) or the outputs are not what the program writes (ConfigError, exit 2).
 */
export async function refreshInventory(spec: FleetSpec & { projectDir: string }, store: StateStore, now = Date.now(), after: 'destroy' | undefined = undefined): Promise<Inventory> {
  const text = await readStackOutputs({ stack: spec.stack, projectDir: spec.projectDir });
  const inventory = inventoryFromOutputs(text, spec, now, `pulumi stack output --json --stack ${spec.stack}`);
  if (after === 'destroy' && Object.keys(inventory.mirrors).length === 0) inventory.destroyedAt = now;
  const known = knownMirrors(spec, inventory);
  const message = `inventory from the stack outputs of ${spec.stack}${inventory.destroyedAt ? ' after a destroy (its hosts are gone)' : ''}: ${known.map((k) => `${k.name} ${describeAddresses(k)}`).join('; ')}`;
  await store.append({ at: now, kind: 'inventory', actor: whoami(), message, data: { stack: spec.stack, mirrors: inventory.mirrors } });
  await updateState(store, (s) => {
    s.inventory = inventory;
  });
  return inventory;
}

export function registerInventory(program: Command): void {
  stackOptions(program.command('inventory'))
    .description('The mirror inventory: every mirror\'s addresses (IPv4, IPv6), host kind, resource id, content digest and when it was deployed. `inventory refresh` re-reads the Pulumi stack outputs.')
    .argument('[action]', 'refresh: re-read `pulumi stack output` and save it')
    .addHelpText('after', '\nExamples:\n  flotilla inventory --stack example\n  flotilla inventory --stack example --json\n  flotilla inventory refresh --stack example   (needs the pulumi CLI)\n')
    .action(async (action: string | undefined, o: StackOpts) => {
      if (action !== undefined && action !== 'refresh') throw new UsageError(`flotilla inventory: unknown action ${JSON.stringify(action)}; expected \`refresh\` or nothing`);
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      const store = openStateStore(spec);
      try {
        const inventory = action === 'refresh' ? await refreshInventory(spec, store) : (await store.load()).inventory;
        show(out, spec, inventory);
      } finally {
        await store.close?.();
      }
    });
}

function show(out: ReturnType<typeof makeOut>, spec: FleetSpec, inventory: Inventory | undefined): void {
  const mirrors = knownMirrors(spec, inventory);
  out.data({ stack: spec.stack, updatedAt: inventory?.updatedAt ?? 0, pulumiStack: inventory?.stack, mirrors });
  out.log(table(['mirror', 'host', 'addresses', 'resource id', 'digest', 'from', 'when'], mirrors.map((m) => [
    m.name,
    m.provider,
    describeAddresses(m),
    m.resourceId ?? '',
    m.digest ? `${m.digest.slice(0, 12)}…` : '',
    m.source === 'pulumi' ? 'pulumi outputs' : m.source === 'stack-file' ? 'stack file' : '',
    m.at ? new Date(m.at).toISOString() : '',
  ])));
  if (!inventory || inventory.updatedAt === 0) out.log('\n(no stack outputs read yet: `flotilla up` or `flotilla inventory refresh` records the hosts Pulumi created)');
  const missing = mirrors.filter((m) => !m.provisioned);
  if (missing.length > 0) out.log(`\nnot provisioned (never probed, never published): ${missing.map((m) => m.name).join(', ')}`);
}
