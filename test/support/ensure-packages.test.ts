import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const HERE = import.meta.dirname;

describe('ensurePackages: a test machine that cannot install says what to run instead', () => {
  it('not root and a package missing: one clear message naming the apt-get command, no stack trace', () => {
    const script = `import { ensurePackages, PackageInstallError } from ${JSON.stringify(join(HERE, 'ensure-packages.ts'))};
      try { ensurePackages({ 'flotilla-no-such-binary': 'flotilla-no-such-package' }); console.log('no error'); }
      catch (e) { console.log(e instanceof PackageInstallError ? 'CLEAR ' + e.message : 'OTHER ' + e.stack); }`;
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(HERE, '..', '..'), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^CLEAR the tests need Debian packages that are missing \(flotilla-no-such-package\) and only root can install them; .*sudo apt-get install -y --no-install-recommends flotilla-no-such-package/);
  });
});
