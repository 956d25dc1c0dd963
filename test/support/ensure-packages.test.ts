import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensurePackages, PackageInstallError } from './ensure-packages.ts';

describe('ensurePackages: a test machine that cannot install says what to run instead', () => {
  it('not root and a package missing: one clear message naming the apt-get command, nothing run', () => {
    assert.throws(
      () => ensurePackages({ 'flotilla-no-such-binary': 'flotilla-no-such-package' }, { uid: 1000 }),
      (e: unknown) =>
        e instanceof PackageInstallError &&
        /^the tests need Debian packages that are missing \(flotilla-no-such-package\) and only root can install them; .*sudo apt-get install -y --no-install-recommends flotilla-no-such-package$/.test(e.message),
    );
  });

  it('nothing missing: nothing to do, whoever runs it', () => {
    assert.doesNotThrow(() => ensurePackages({ node: 'nodejs' }, { uid: 1000 }));
  });
});
