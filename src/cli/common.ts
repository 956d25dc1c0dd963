import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { loadStack } from '../config/load-stack.ts';
import { UsageError } from '../domain/errors.ts';
import { openStore } from '../state/open-store.ts';
import type { StateStore } from '../state/state-store.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';

export interface StackOpts {
  stack?: string;
  config?: string;
  json?: boolean;
}

/** Adds --stack/--config/--json to a command. */
export function stackOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-s, --stack <name>', 'stack name: reads stacks/Pulumi.<name>.yaml').env('FLOTILLA_STACK'))
    .option('-c, --config <file>', 'path to a stack file instead of --stack')
    .option('--json', 'machine-readable output');
}

export async function specFrom(o: StackOpts) {
  if (!o.stack && !o.config) throw new UsageError('name a stack with --stack NAME (or a file with --config FILE)');
  return loadStack({ stack: o.stack, file: o.config });
}

/** The state store the spec names. */
export function openStateStore(spec: FleetSpec): StateStore {
  return openStore(spec);
}

export function whoami(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return process.env.FLOTILLA_AUTHOR ?? process.env.SUDO_USER ?? process.env.USER ?? user;
}
