/**
 * Installs Debian packages a test needs when their binaries are missing (tests run as root).
 * Under CI=true a failure to install throws, so a test that needs a server fails rather than skipping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let updated = false;

/** `bin` is a command name, or an absolute path of a file the package ships. */
export function hasBinary(bin: string): boolean {
  if (bin.startsWith('/')) return existsSync(bin);
  return spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`], { stdio: 'ignore' }).status === 0;
}

/** Installing failed: says what failed and what to run instead (no stack trace from `npm test`'s pretest). */
export class PackageInstallError extends Error {}

/** `needs` maps a binary to the package that provides it, e.g. `{ named: 'bind9', dig: 'dnsutils' }`. */
export function ensurePackages(needs: Record<string, string>, opts: { uid?: number } = {}): void {
  const missing = [...new Set(Object.entries(needs).filter(([bin]) => !hasBinary(bin)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  const instead = `install them yourself and run the tests again: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const uid = opts.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 0);
  if (uid !== 0) {
    throw new PackageInstallError(`the tests need Debian packages that are missing (${missing.join(', ')}) and only root can install them; ${instead}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8' });
    if (r.status !== 0) {
      const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n    ');
      throw new PackageInstallError(`\`apt-get ${args.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}); it said:\n    ${said}\n${instead}`);
    }
  };
  if (!updated) {
    apt(['update']);
    updated = true;
  }
  apt(['install', '-y', '--no-install-recommends', ...missing]);
  for (const [bin, pkg] of Object.entries(needs)) {
    if (!hasBinary(bin)) throw new PackageInstallError(`installed ${pkg} but ${bin} is still missing`);
  }
}
