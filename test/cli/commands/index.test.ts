import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command, Help } from 'commander';
import { COMMANDS, commandNamed, registerCommands, standInTerms } from '../../../src/cli/commands/index.ts';

/** What a module registers, as --help would list it. */
async function realCommands() {
  const program = new Command('flotilla');
  const loaded = new Set<unknown>();
  for (const c of COMMANDS) {
    const register = await c.load();
    if (loaded.has(register)) continue;
    loaded.add(register);
    register(program);
  }
  const help = new Help();
  return program.commands.map((c) => ({ name: c.name(), term: help.subcommandTerm(c), description: c.description() }));
}

describe('the command table', () => {
  it('lists every command the modules register, with the term and description they register', async () => {
    const real = await realCommands();
    const table = COMMANDS.map((c) => ({ name: c.name, term: c.term, description: c.description }));
    assert.deepEqual([...table].sort((a, b) => a.name.localeCompare(b.name)), [...real].sort((a, b) => a.name.localeCompare(b.name)));
  });

  it('names the command being run: the first operand, the one after help, nothing for flags only', () => {
    assert.equal(commandNamed(['status', '--stack', 'local'])?.name, 'status');
    assert.equal(commandNamed(['--help', 'drain'])?.name, 'drain');
    assert.equal(commandNamed(['help', 'failover'])?.name, 'failover');
    assert.equal(commandNamed(['--help']), undefined);
    assert.equal(commandNamed([]), undefined);
    assert.equal(commandNamed(['stauts']), undefined);
  });

  it('registers the command being run for real and a stand-in for every other one', async () => {
    const program = new Command('flotilla');
    await registerCommands(program, ['drain', 'local-b', '--reason', 'x']);
    assert.deepEqual(program.commands.map((c) => c.name()).sort(), COMMANDS.map((c) => c.name).sort());
    const real = program.commands.filter((c) => !standInTerms.has(c)).map((c) => c.name()).sort();
    // overrides.ts registers its four commands at once
    assert.deepEqual(real, ['clear', 'drain', 'failover', 'undrain']);
    assert.ok(program.commands.find((c) => c.name() === 'drain')!.options.some((o) => o.long === '--reason'));
  });
});
