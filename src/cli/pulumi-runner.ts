import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { ToolFailedError, ToolMissingError } from '../domain/errors.ts';

/** Full path of `pulumi` on PATH, or undefined. */
export function findPulumi(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const p = join(dir, 'pulumi');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export const PULUMI_MISSING =
  'the Pulumi CLI (`pulumi`) is not on PATH, so `flotilla up`, `preview`, `destroy` and `inventory refresh` cannot run. ' +
  'Install it from https://www.pulumi.com/docs/install/ (for example `curl -fsSL https://get.pulumi.com | sh`, then add ' +
  '~/.pulumi/bin to PATH), log in with `pulumi login` (or `pulumi login --local` for a state file on this machine), and run ' +
  'the command again from the repository root. To see what would be created without Pulumi or a cloud account, use ' +
  '`flotilla preview --mock --stack NAME`.';

/** Runs `pulumi <verb> --stack NAME` in the project directory with the user's terminal attached. */
export async function runPulumi(opts: { verb: 'up' | 'preview' | 'destroy'; stack: string; projectDir: string; yes?: boolean; path?: string }): Promise<number> {
  const bin = findPulumi(opts.path);
  if (!bin) throw new ToolMissingError(PULUMI_MISSING);
  const args = [opts.verb, '--stack', opts.stack, ...(opts.yes ? ['--yes'] : [])];
  const r = await execa(bin, args, { cwd: opts.projectDir, stdio: 'inherit', reject: false });
  return r.exitCode ?? 1;
}

/**
 * The stack's outputs as the JSON text `pulumi stack output --json --show-secrets --stack NAME` prints (secrets shown:
 * the text stays in this process). ToolMissingError without pulumi, ToolFailedError when it exits non-zero.
 */
export async function readStackOutputs(opts: { stack: string; projectDir: string; path?: string }): Promise<string> {
  const bin = findPulumi(opts.path);
  if (!bin) throw new ToolMissingError(PULUMI_MISSING);
  const r = await execa(bin, ['stack', 'output', '--json', '--show-secrets', '--stack', opts.stack], { cwd: opts.projectDir, reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new ToolFailedError(`\`pulumi stack output --json --show-secrets --stack ${opts.stack}\` failed (exit ${r.exitCode ?? r.signal}): ${String(r.stderr).trim().slice(0, 2000) || '(no message)'}; the mirror inventory was left as it was`);
  return String(r.stdout);
}
