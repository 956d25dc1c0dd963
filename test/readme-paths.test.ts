/** Every repository path the README names exists (it once pointed at a test/integration folder there never was). */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './support/run-cli.ts';

/** Paths under the repository's top folders, as written in README.md; a segment with a pattern (`<kind>`, `*`) and what follows it is cut. */
export function readmePaths(text: string): string[] {
  const found = text.match(/\b(?:src|test|bench|stacks|scripts|docs|site)\/[A-Za-z0-9_./<>*-]*/g) ?? [];
  return [...new Set(found.map((p) => p.replace(/[^/]*[<*].*$/, '').replace(/[.]+$/, '')))].sort();
}

describe('README', () => {
  it('names only paths that exist', () => {
    const missing = readmePaths(readFileSync(join(REPO, 'README.md'), 'utf8')).filter((p) => !existsSync(join(REPO, p)));
    assert.deepEqual(missing, []);
  });

  it('the check sees a folder that does not exist', () => {
    assert.deepEqual(readmePaths('run the tests in test/integration/ and test/e2e'), ['test/e2e', 'test/integration/']);
    assert.equal(existsSync(join(REPO, 'test/integration')), false);
  });
});
