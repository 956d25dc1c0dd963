import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/domain/errors.ts';
import { deployScript, MAX_DEPLOY_FILES_BYTES, siteDeployPlan } from '../../src/infra/site-deploy.ts';
import { manifestDeployFiles } from '../../src/manifest/manifest-files.ts';

const base = { stack: 's', mirror: 'm', contentDir: '/srv/site', site: { siteName: 'n', digest: 'ab'.repeat(32), serverNames: ['example.org'] } };

describe('siteDeployPlan with extra files (the published manifest)', () => {
  it('no files: the release is named by the digest; files: a release of their own, deterministic, changing with them', () => {
    assert.equal(siteDeployPlan(base).releaseId, base.site.digest.slice(0, 16));
    const a = siteDeployPlan({ ...base, files: manifestDeployFiles('{"s":1}\n') });
    assert.equal(siteDeployPlan({ ...base, files: manifestDeployFiles('{"s":1}\n') }).releaseId, a.releaseId);
    assert.notEqual(a.releaseId, siteDeployPlan(base).releaseId);
    assert.notEqual(siteDeployPlan({ ...base, files: manifestDeployFiles('{"s":2}\n') }).releaseId, a.releaseId);
    assert.ok(a.remotePath.endsWith(a.releaseId), 'a new release is a new upload path: the copy re-runs');
    assert.match(deployScript(a, 'ssh:x'), /flotilla\.json/);
    assert.doesNotMatch(deployScript(siteDeployPlan(base), 'ssh:x'), /base64/);
  });

  it('refuses a path outside the web root and files too big for the install script, naming the file', () => {
    for (const path of ['../etc/passwd', '/abs', 'a//b', 'a/./b', "it's"])
      assert.throws(() => siteDeployPlan({ ...base, files: [{ path, content: 'x', contentType: 'text/plain' }] }), (e: unknown) => e instanceof ConfigError && e.message.includes(JSON.stringify(path)), path);
    assert.throws(() => siteDeployPlan({ ...base, files: manifestDeployFiles('x'.repeat(MAX_DEPLOY_FILES_BYTES + 1)) }), (e: unknown) => e instanceof ConfigError && /over the 65536 bytes/.test(e.message));
  });
});
