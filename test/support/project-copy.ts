/**
 * A throwaway copy of the project's stack files in a temp dir, for tests that run the CLI as a user would but must
 * not touch the checkout's own `.flotilla/` state. The site is linked, not copied. `remove()` deletes it all.
 */
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './run-cli.ts';

export interface ProjectCopy {
  dir: string;
  remove(): void;
}

export function projectCopy(): ProjectCopy {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-project-'));
  cpSync(join(REPO, 'Pulumi.yaml'), join(dir, 'Pulumi.yaml'));
  cpSync(join(REPO, 'stacks'), join(dir, 'stacks'), { recursive: true });
  symlinkSync(join(REPO, 'site'), join(dir, 'site'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
