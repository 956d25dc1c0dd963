/**
 * Installs Debian packages a test needs when their binaries are missing (tests run as root).
 * Under CI=true a failure to install throws, so a test that needs a server fails rather than skipping.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let updated = false;

/** `bin` is a command name, or an absolute path of a file the package ships. */
export function hasBinary(bin: string): boolean {
  if (bin.startsWith('/')) return existsSync(bin);
  return spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`], { stdio: 'ignore' }).status === 0;
}

/** `needs` maps a binary to the package that provides it, e.g. `{ named: 'bind9', dig: 'dnsutils' }`. */
export function ensurePackages(needs: Record<string, string>): void {
  const missing = Object.entries(needs).filter(([bin]) => !hasBinary(bin)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!updated) {
    execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
    updated = true;
  }
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...new Set(missing)], { stdio: 'ignore', env });
  for (const [bin, pkg] of Object.entries(needs)) {
    if (!hasBinary(bin)) throw new Error(`installed ${pkg} but ${bin} is still missing`);
  }
}
