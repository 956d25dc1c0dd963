import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { digestSite } from '../../src/config/site-digest.ts';
import { listSiteFiles, SiteTreeError, systemDirectoryReason } from '../../src/config/site-tree.ts';

const site = () => {
  const d = mkdtempSync(join(tmpdir(), 'flotilla-site-tree-'));
  mkdirSync(join(d, 'css'));
  writeFileSync(join(d, 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(d, 'css', 'a.css'), 'body{}');
  return d;
};
const refused = (needle: RegExp) => (e: unknown) => e instanceof SiteTreeError && needle.test(e.message);

describe('listSiteFiles: what a site directory may be', () => {
  it('refuses the whole machine, system trees and a home directory before reading anything', async () => {
    for (const d of ['/', '/etc', '/usr', '/proc', '/var', '/tmp', '/proc/self', '/etc/nginx', homedir(), '/usr/../etc']) {
      assert.ok(systemDirectoryReason(d), d);
      await assert.rejects(listSiteFiles(d), refused(/system directory|home directory|is inside/), d);
    }
    for (const d of ['/srv/www', '/var/www/site', '/usr/share/doc/x', site()]) assert.equal(systemDirectoryReason(d), undefined, d);
  });

  it('stops at the file-count and total-size limits with a clear error', async () => {
    const d = site();
    assert.equal((await listSiteFiles(d, { maxFiles: 2, maxBytes: 1000 })).length, 2);
    await assert.rejects(listSiteFiles(d, { maxFiles: 1, maxBytes: 1000 }), refused(/more than 1 files .*at most 1 files/));
    await assert.rejects(digestSite(d, { maxFiles: 10, maxBytes: 12 }), refused(/more than 12 bytes/));
  });

  it('follows symbolic links inside the site (files and directories), with the link\'s own path', async () => {
    const d = site();
    symlinkSync('index.html', join(d, 'home.html'));
    symlinkSync('css', join(d, 'styles'));
    const files = await listSiteFiles(d);
    assert.deepEqual(files.map((f) => f.path), ['/css/a.css', '/home.html', '/index.html', '/styles/a.css']);
    const dg = await digestSite(d);
    assert.equal(dg.files['/home.html'], dg.files['/index.html']);
  });

  it('refuses a link out of the site, a dangling link and a loop, naming the link', async () => {
    const out = site();
    symlinkSync('/etc/passwd', join(out, 'passwd'));
    await assert.rejects(listSiteFiles(out), (e: unknown) => refused(/points outside the site, to \/etc\/passwd/)(e) && (e as SiteTreeError).path === join(out, '/passwd'));
    const dangling = site();
    symlinkSync('gone.html', join(dangling, 'old.html'));
    await assert.rejects(listSiteFiles(dangling), refused(/old\.html points nowhere/));
    const loop = site();
    symlinkSync('..', join(loop, 'css', 'up'));
    await assert.rejects(listSiteFiles(loop), refused(/css\/up points back to .* \(a loop\)/));
  });

  it('skips a FIFO instead of blocking on it', async () => {
    const d = site();
    execFileSync('mkfifo', [join(d, 'pipe')]);
    assert.deepEqual((await listSiteFiles(d)).map((f) => f.path), ['/css/a.css', '/index.html']);
  });
});
