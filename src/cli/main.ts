import { Command, CommanderError, Help } from 'commander';
import { FlotillaError } from '../domain/errors.ts';
import { redactText } from '../domain/redact-url.ts';
import { commandNamed, registerCommands, standInTerms } from './commands/index.ts';
import { stopWhenNpmWrapperExits } from './npm-wrapper-watch.ts';
import { packageVersion } from './package-version.ts';

/** bin/run-bundle.mjs keeps a code cache per command this names (and none for a mistyped one). */
export { commandNamed };

/**
 * Exit codes: 0 ok · 1 unhealthy or failed · 2 bad input (stack file, flags, unknown mirror).
 * A user mistake never prints a stack trace; an unexpected error does (it is a bug: report it).
 * Only the module of the command being run is imported (see commands/index.ts): `--help` loads none of them.
 */
export async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  const program = new Command('flotilla')
    .description('Keep a site online when any one host, DNS provider or registrar drops it.')
    .version(packageVersion(), '-V, --version', 'print the version of flotilla')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .configureHelp({ subcommandTerm: (cmd) => standInTerms.get(cmd) ?? Help.prototype.subcommandTerm.call(new Help(), cmd) });
  const entry = commandNamed(args);
  if (entry?.longRunning) {
    // after parsing, so `flotilla demo --help` or a bad flag prints neither
    program.hook('preAction', () => {
      process.stderr.write(`flotilla ${entry.name} runs as pid ${process.pid} (\`kill ${process.pid}\` stops it and everything it started)\n`);
      stopWhenNpmWrapperExits();
    });
  }
  try {
    // A command that runs once parses each schema about once: zod's JIT (a parser compiled with new Function per
    // object schema, on its first parse) costs it more than it saves (~25 ms of `flotilla status`). The daemon and the
    // demo parse the state again and again, and keep it. Set before the command's schemas are built, which read it.
    if (entry !== undefined && !entry.longRunning) (await import('zod')).config({ jitless: true });
    await registerCommands(program, args);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return handleError(e, args.includes('--json'));
  }
}

/**
 * Prints what went wrong and returns the exit code. With `--json` a user-facing error is also a JSON document on
 * stdout (`{"error": {"code", "message", "exitCode"}}`), so a script reading stdout sees the failure, not nothing.
 */
export function handleError(e: unknown, json = false): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (json) process.stdout.write(JSON.stringify({ error: { code: 'USAGE', message: e.message.replace(/^error: /, ''), exitCode: 2 } }, null, 2) + '\n');
    return 2;
  }
  if (e instanceof FlotillaError) {
    process.stderr.write(`flotilla: ${e.message}\n`);
    if (json) process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, exitCode: e.exitCode, ...('issues' in e ? { issues: e.issues } : {}) } }, null, 2) + '\n');
    return e.exitCode;
  }
  process.stderr.write(`flotilla: unexpected error (this is a bug, please report it):\n${redactText((e as Error)?.stack ?? String(e))}\n`);
  return 1;
}
