import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The tree of git REF under `dir` (created), with this repository's node_modules linked in and its dist/ built by its
 * own bin/build-dist.mjs: the "before" side of a before/now bench.
 */
export function buildRef(repo: string, ref: string, dir: string): string {
  mkdirSync(dir);
  execFileSync('sh', ['-c', `git -C "${repo}" archive ${ref} | tar -x -C "${dir}"`]);
  symlinkSync(realpathSync(join(repo, 'node_modules')), join(dir, 'node_modules'));
  process.stderr.write(`building ${ref}'s dist/ ...\n`);
  execFileSync(process.execPath, [join(dir, 'bin', 'build-dist.mjs')], { cwd: dir, stdio: 'inherit' });
  return dir;
}
