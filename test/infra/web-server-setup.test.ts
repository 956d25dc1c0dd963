/**
 * What a cloud host's user data carries (web server and SSH only: the site never meets the user-data limit), the
 * nginx site (never the default server), and the deploy key's public half.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ConfigError } from '../../src/domain/errors.ts';
import { deployPublicKey, openSshPublicKey } from '../../src/infra/deploy-key.ts';
import { deployScript, removeScript, siteDeployPlan } from '../../src/infra/site-deploy.ts';
import { cloudInitUserData, DIGEST_HEADER, nginxSiteConfig, USER_DATA_LIMITS } from '../../src/infra/web-server-setup.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample0 t';

describe('cloud-init user data', () => {
  it('installs nginx and authorises the deploy key; nothing of the site is in it', () => {
    const text = cloudInitUserData({ sshPublicKey: KEY, stack: 'st', mirror: 'm' });
    assert.ok(text.startsWith('#cloud-config\n'), 'cloud-init needs the #cloud-config first line');
    const doc = parse(text) as Record<string, unknown>;
    assert.deepEqual(doc, { package_update: true, packages: ['nginx'], ssh_authorized_keys: [KEY] });
    assert.ok(Buffer.byteLength(text) < USER_DATA_LIMITS.aws / 16, 'a few hundred bytes, whatever the site');
  });
});

describe('nginx site', () => {
  it('answers for the site names only: never default_server, root is the current release', () => {
    const c = nginxSiteConfig({ serverNames: ['a.example', 'b.example'], digest: 'd' });
    assert.match(c, /server_name a\.example b\.example;/);
    assert.match(c, /listen 80;/);
    assert.match(c, /listen \[::\]:80;/);
    assert.doesNotMatch(c, /default_server/);
    assert.match(c, /root \/var\/www\/flotilla\/current;/);
    assert.match(c, new RegExp(`add_header ${DIGEST_HEADER} "d" always;`));
    assert.throws(() => nginxSiteConfig({ serverNames: [], digest: 'd' }), /catch-all/);
  });

  it('the deploy scripts never remove the default site, and both are valid sh', () => {
    const plan = siteDeployPlan({ stack: 'st', mirror: 'm', contentDir: '/srv/my site/', site: { siteName: 's', digest: 'e'.repeat(64), serverNames: ['example.org'] } });
    assert.equal(plan.source, '/srv/my site', 'no trailing slash: CopyToRemote puts it in <remotePath>/<base name>');
    assert.equal(plan.uploaded, `${plan.remotePath}/my site`);
    for (const text of [deployScript(plan, 'i-1'), removeScript(plan, 'i-1')]) {
      assert.doesNotMatch(text, /sites-enabled\/default|default_server/);
      const r = spawnSync('sh', ['-n'], { input: text });
      assert.equal(r.status, 0, r.stderr.toString());
    }
  });
});

describe('deploy key', () => {
  it('derives the OpenSSH public key from an OpenSSH or PEM private key, as ssh-keygen -y does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-key-'));
    try {
      const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'c', '-f', join(dir, 'k')]);
      assert.equal(r.status, 0, r.stderr.toString());
      const pub = (await readFile(join(dir, 'k.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
      assert.equal(openSshPublicKey(await readFile(join(dir, 'k'), 'utf8')), pub);
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      const y = spawnSync('ssh-keygen', ['-y', '-f', '/dev/stdin'], { input: pem });
      if (y.status === 0) assert.equal(openSshPublicKey(pem), y.stdout.toString().trim().split(' ').slice(0, 2).join(' '));
      assert.match(openSshPublicKey(pem, 'x'), /^ssh-rsa AAAAB3NzaC1yc2E\S+ x$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an unset or unreadable key is a ConfigError naming the variable', () => {
    assert.throws(() => deployPublicKey('FLOTILLA_DEPLOY_KEY', undefined, 'c'), (e: unknown) => e instanceof ConfigError && e.exitCode === 2 && /FLOTILLA_DEPLOY_KEY is not set/.test(e.message));
    assert.throws(() => deployPublicKey('FLOTILLA_DEPLOY_KEY', 'not a key', 'c'), (e: unknown) => e instanceof ConfigError && /FLOTILLA_DEPLOY_KEY: expected a private key/.test(e.message) && !e.message.includes('not a key'));
  });
});
