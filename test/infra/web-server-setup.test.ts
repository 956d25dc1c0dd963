import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { digestSite } from '../../src/config/site-digest.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { readSiteFiles } from '../../src/infra/site-files.ts';
import {
  checkUserDataSize,
  cloudInitUserData,
  DIGEST_FILE,
  DIGEST_HEADER,
  nginxSiteConfig,
  sshInstallScript,
  sshRootScript,
  USER_DATA_LIMITS,
  WEB_ROOT,
  type WebServerSetup,
} from '../../src/infra/web-server-setup.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { freePort } from '../support/ports.ts';

const SITE_DIR = resolve(import.meta.dirname, '..', '..', 'site');

interface CloudConfig {
  package_update: boolean;
  packages: string[];
  write_files: { path: string; content: string; encoding?: string; permissions?: string }[];
  runcmd: string[][];
}

function decode(f: CloudConfig['write_files'][number]): Buffer {
  return f.encoding === 'gz+b64' ? gunzipSync(Buffer.from(f.content, 'base64')) : Buffer.from(f.content, 'utf8');
}

let setup: WebServerSetup;
let site: Awaited<ReturnType<typeof digestSite>>;

before(async () => {
  site = await digestSite(SITE_DIR);
  setup = { siteName: 'example', digest: site.digest, serverNames: ['example.org', 'www.example.org'], files: await readSiteFiles(SITE_DIR) };
});

describe('cloud-init user data', () => {
  it('installs nginx, carries the digest, and writes every site file byte for byte', () => {
    const text = cloudInitUserData(setup);
    assert.ok(text.startsWith('#cloud-config\n'), 'cloud-init needs the #cloud-config first line');
    const doc = parse(text) as CloudConfig;
    assert.deepEqual(doc.packages, ['nginx']);
    assert.equal(doc.package_update, true);
    assert.ok(text.includes(setup.digest));
    const digestFile = doc.write_files.find((f) => f.path === DIGEST_FILE);
    assert.equal(digestFile?.content.trim(), setup.digest);
    assert.equal(setup.files.length, 2);
    for (const f of setup.files) {
      const w = doc.write_files.find((x) => x.path === `${WEB_ROOT}${f.path}`);
      assert.ok(w, `write_files has ${f.path}`);
      assert.equal(createHash('sha256').update(decode(w)).digest('hex'), site.files[f.path]);
    }
    const conf = doc.write_files.find((f) => f.path === '/etc/flotilla/nginx-site.conf');
    assert.match(conf!.content, new RegExp(`add_header ${DIGEST_HEADER} "${setup.digest}"`));
    const run = doc.runcmd.map((c) => c.join(' ')).join('\n');
    assert.match(run, /sites-enabled\/flotilla/);
    assert.match(run, /rm -f \/etc\/nginx\/sites-enabled\/default/);
    assert.match(run, /nginx -t/);
  });

  it('is deterministic: the same site gives the same bytes (an unchanged site never replaces a host)', () => {
    assert.equal(cloudInitUserData(setup), cloudInitUserData({ ...setup, files: [...setup.files].reverse() }));
    assert.notEqual(cloudInitUserData(setup), cloudInitUserData({ ...setup, digest: 'other' }));
  });

  it('refuses site paths that leave the web root', () => {
    assert.throws(() => cloudInitUserData({ ...setup, files: [{ path: '/../etc/passwd', content: Buffer.from('x') }] }), /unsafe site path/);
  });

  it('checkUserDataSize refuses user data over the provider limit with a ConfigError naming the mirror', () => {
    checkUserDataSize('x'.repeat(USER_DATA_LIMITS.aws), 'aws', 'm1');
    assert.throws(
      () => checkUserDataSize('x'.repeat(USER_DATA_LIMITS.aws + 1), 'aws', 'm1'),
      (e: unknown) => e instanceof ConfigError && /m1/.test(e.message) && /16384/.test(e.message),
    );
    checkUserDataSize('x'.repeat(USER_DATA_LIMITS.aws + 1), 'hcloud', 'm1');
  });
});

describe('ssh install script', () => {
  const s = () => ({ siteName: 'example', digest: setup.digest, serverNames: ['example.org'], stagingDir: "/tmp/flotilla-site-it's" });

  it('installs nginx, deploys from the staging dir and records the digest', () => {
    const root = sshRootScript(s());
    assert.match(root, /apt-get install -y -q --no-install-recommends nginx/);
    assert.ok(root.includes(setup.digest));
    assert.ok(root.includes(`'/tmp/flotilla-site-it'\\''s'/.`), 'staging path is shell-quoted');
    assert.ok(sshInstallScript(s()).includes('sudo -n'));
  });

  it('both the wrapper and the root part are valid sh', () => {
    for (const text of [sshInstallScript(s()), sshRootScript(s())]) {
      const r = spawnSync('sh', ['-n'], { input: text });
      assert.equal(r.status, 0, r.stderr.toString());
    }
  });
});

describe('the nginx site from the cloud-init, served by a real nginx on loopback', () => {
  let dir: string;
  let port: number;
  let proc: ChildProcess | undefined;

  before(async () => {
    ensurePackages({ nginx: 'nginx' });
    dir = await mkdtemp(join(tmpdir(), 'flotilla-nginx-'));
    await chmod(dir, 0o755);
    port = await freePort();
    // materialise write_files under dir (what cloud-init does on the host), then point the site at it
    const doc = parse(cloudInitUserData(setup)) as CloudConfig;
    for (const f of doc.write_files) {
      const target = join(dir, f.path);
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      await writeFile(target, decode(f), { mode: 0o644 });
    }
    for (const d of ['var', 'var/www', 'var/www/flotilla']) await chmod(join(dir, d), 0o755);
    const siteConf = decode(doc.write_files.find((f) => f.path === '/etc/flotilla/nginx-site.conf')!)
      .toString()
      .replace(/^\s*listen .*$/gm, '')
      .replace('server {', `server {\n    listen 127.0.0.1:${port} default_server;`)
      .replace(`root ${WEB_ROOT};`, `root ${join(dir, WEB_ROOT)};`);
    assert.match(siteConf, new RegExp(`root ${dir}`));
    const conf = [
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log;`,
      'events {}',
      'http {',
      '  include /etc/nginx/mime.types;',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
      siteConf,
      '}',
    ].join('\n');
    await writeFile(join(dir, 'nginx.conf'), conf);
    const bin = spawnSync('sh', ['-c', 'command -v nginx || echo /usr/sbin/nginx']).stdout.toString().trim();
    const check = spawnSync(bin, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')]);
    assert.equal(check.status, 0, `nginx -t: ${check.stderr}`);
    proc = spawnTracked(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`http://127.0.0.1:${port}/`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('nginx did not start');
  });

  after(async () => {
    // also when nginx already died: waiting for an 'exit' that was already emitted would hang the file
    if (proc) await stopChild(proc);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the exact bytes of every file and the digest header', async () => {
    for (const path of ['/', '/index.html', '/style.css']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { host: 'www.example.org' } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get(DIGEST_HEADER), setup.digest);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(createHash('sha256').update(body).digest('hex'), site.files[path], path);
    }
    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get(DIGEST_HEADER), setup.digest, 'the header is there on errors too (always)');
  });

  it('nginxSiteConfig names every server and defaults to port 80 on both families', () => {
    const c = nginxSiteConfig({ serverNames: ['a.example', 'b.example'], digest: 'd' });
    assert.match(c, /server_name a\.example b\.example;/);
    assert.match(c, /listen 80 default_server;/);
    assert.match(c, /listen \[::\]:80 default_server;/);
  });
});
