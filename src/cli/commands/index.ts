import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * One `flotilla` command as `--help` lists it, and the module that registers it. The module (with everything it
 * imports: drivers, the controller, undici, the HTTP server, Pulumi) is imported only when that command runs, so a
 * command starts without loading the others. `term` and `description` repeat what the module registers;
 * test/cli/commands/index.test.ts fails when they drift apart.
 */
export interface CommandEntry {
  name: string;
  /** The command as --help lists it: name, `[options]`, arguments. */
  term: string;
  description: string;
  load: () => Promise<Register>;
  /** Runs until stopped (daemon, demo): it prints its pid at start and stops with an npm wrapper that started it. */
  longRunning?: boolean;
}

const overrides = async (): Promise<Register> => (await import('./overrides.ts')).registerOverrides;
const pulumi = async (): Promise<Register> => (await import('./pulumi.ts')).registerPulumi;

/** Every command, in the order --help lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'validate', term: 'validate [options]', description: 'Check a stack file: every problem at once, with the path in the file. Exit 2 when it is wrong.', load: async () => (await import('./validate.ts')).registerValidate },
  { name: 'plan', term: 'plan [options]', description: 'Show the records every DNS provider should hold and the changes from what the state says is there now.', load: async () => (await import('./plan.ts')).registerPlan },
  { name: 'apply', term: 'apply [options]', description: 'Write the desired records to every DNS provider once (what the daemon does on each decision), then verify every authoritative server. --dry-run shows the changes only; --force lets a change delete more than policy.maxRemoveShare of a zone, write while every canary fails (fail static), or write beside a running daemon (the leader, on etcd).', load: async () => (await import('./apply.ts')).registerApply },
  { name: 'preview', term: 'preview [options]', description: 'Show what `pulumi up` would create. With --mock, runs the Pulumi program in-process under mocks (no cloud account, no Pulumi CLI).', load: pulumi },
  { name: 'up', term: 'up [options]', description: 'Deploy the mirrors, zones, records and registrar settings with the pulumi CLI, then save the mirror inventory from the stack outputs.', load: pulumi },
  { name: 'inventory', term: 'inventory [options] [action]', description: "The mirror inventory: every mirror's addresses (IPv4, IPv6), host kind, resource id, content digest and when it was deployed. `inventory refresh` re-reads the Pulumi stack outputs.", load: async () => (await import('./inventory.ts')).registerInventory },
  { name: 'destroy', term: 'destroy [options]', description: 'Tear the stack down with the pulumi CLI, then clear the mirror inventory (the hosts and their addresses are gone).', load: pulumi },
  { name: 'check', term: 'check [options]', description: 'Probe every mirror once and print a table of results and reasons. Exit 1 when any mirror fails. Mirrors without a known address are reported as not provisioned, never probed. Reads the mirror inventory; writes no state.', load: async () => (await import('./check.ts')).registerCheck },
  { name: 'daemon', term: 'daemon [options]', description: 'Run the controller: probe, decide, rewrite every DNS provider, verify. SIGTERM stops cleanly; SIGHUP reloads the stack file.', load: async () => (await import('./daemon.ts')).registerDaemon, longRunning: true },
  { name: 'status', term: 'status [options]', description: 'Mirrors with their health and streaks, what each provider serves now, open overrides. Exit 1 when a mirror is down.', load: async () => (await import('./status.ts')).registerStatus },
  { name: 'history', term: 'history [options]', description: 'The audit log: every decision, apply, override and error, oldest first (the newest --limit of them; --before pages back).', load: async () => (await import('./history.ts')).registerHistory },
  { name: 'records', term: 'records [options]', description: "Dump what every DNS provider holds now, side by side (asks each provider's API).", load: async () => (await import('./records.ts')).registerRecords },
  { name: 'drain', term: 'drain [options] <mirror>', description: 'Take a mirror out of every answer, with a reason and an optional expiry. Draining the last serving mirror needs --force.', load: overrides },
  { name: 'undrain', term: 'undrain [options] <mirror>', description: 'Put a drained mirror back (it serves again once healthy).', load: overrides },
  { name: 'failover', term: 'failover [options]', description: 'Force all traffic to one mirror, with a reason and an optional expiry. A mirror that is down needs --force.', load: overrides },
  { name: 'clear', term: 'clear [options] <mirror>', description: 'Remove every open override (drain or failover) of a mirror.', load: overrides },
  { name: 'domains', term: 'domains [options]', description: "Every domain's delegation as expected vs seen at the parent zone, each provider's nameservers (answering / lame), registry status and expiry (RDAP).", load: async () => (await import('./domains.ts')).registerDomains },
  { name: 'manifest', term: 'manifest', description: 'The signed site manifest (/.well-known/flotilla.json): live and lost domains, for readers who pinned the key.', load: async () => (await import('./manifest.ts')).registerManifest },
  { name: 'certs', term: 'certs', description: "HTTPS certificates over ACME DNS-01 at every DNS provider: `issue` now, `renew` when due, `status`.", load: async () => (await import('./certs.ts')).registerCerts },
  { name: 'demo', term: 'demo [options]', description: 'Watch flotilla save a site, on this machine only: three local mirrors, the embedded DNS server, a failover, a digest catch, a drain.', load: async () => (await import('./demo.ts')).registerDemo, longRunning: true },
];

/**
 * The command the arguments (after `node flotilla`) name: the first operand, or the one after `help`
 * (`flotilla help drain` needs drain's own options). The program has no options of its own besides --help.
 */
export function commandNamed(args: readonly string[]): CommandEntry | undefined {
  const operands = args.filter((a) => !a.startsWith('-'));
  const name = operands[0] === 'help' ? operands[1] : operands[0];
  return COMMANDS.find((c) => c.name === name);
}

/** Stand-ins registered for the commands not being run: the term --help shows for each. */
export const standInTerms = new WeakMap<Command, string>();

/**
 * Registers the command `args` name for real (importing its module now) and a light stand-in for every other one,
 * so `--help` and commander's "did you mean" know them all without importing any of them.
 */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const entry = commandNamed(args);
  // only a run with no command lists them all, and then every one is a stand-in, in table order
  if (entry) (await entry.load())(program);
  for (const c of COMMANDS) {
    if (program.commands.some((x) => x.name() === c.name)) continue;
    const standIn = program.command(c.name).description(c.description).allowUnknownOption().allowExcessArguments();
    standIn.action(() => {
      throw new Error(`internal: the stand-in for \`flotilla ${c.name}\` ran; the command table did not load its module`);
    });
    standInTerms.set(standIn, c.term);
  }
}
