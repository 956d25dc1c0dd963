/**
 * The deploy step's exact layout and lifecycle on a real host (issue 9 item 4): Debian's sshd and nginx on loopback,
 * the site copied over real SFTP the way pulumi-command's CopyToRemote copies a directory (copyController.go,
 * sftpCopy: a source without a trailing slash lands in <remotePath>/<base name>), then the generated create, update
 * and delete scripts run over real SSH in the order Pulumi runs them. `/` is fetched from nginx and the bytes checked.
 * nginx also has a default site of its own, which flotilla must never take over or remove. Last, the published
 * manifest (manifestDeployFiles) goes out with a release and nginx serves /.well-known/flotilla.json byte for byte.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, rmdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { digestSite } from '../../src/config/site-digest.ts';
import { copiedDir, deployScript, removeScript, siteDeployPlan, type SiteDeployPlan, type SiteLayout } from '../../src/infra/site-deploy.ts';
import { DIGEST_HEADER, nginxSiteConfig } from '../../src/infra/web-server-setup.ts';
import { manifestDeployFiles } from '../../src/manifest/manifest-files.ts';
import { MANIFEST_PATH } from '../../src/manifest/site-manifest.ts';
import { startSshd, type SshdServer } from '../support/sshd-server.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { freePort } from '../support/ports.ts';

const run = promisify(execFile);
const HOST_ID = 'ssh:127.0.0.1';
const STACK = `e2e${process.pid}`;

let dir: string;
let sshPort: number;
let webPort: number;
let sshd: SshdServer | undefined;
let nginx: ChildProcess | undefined;
let layout: SiteLayout;
let nginxBin: string;

const sshArgs = () => ['-i', join(dir, 'client_key'), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'];

/** Runs a command string on the host the way pulumi-command's remote.Command does (one session, the login shell). */
async function remote(script: string): Promise<{ stdout: string; stderr: string }> {
  return run('ssh', [...sshArgs(), '-p', String(sshPort), 'root@127.0.0.1', script], { maxBuffer: 1 << 20 });
}

/** CopyToRemote of a local directory over SFTP, following sftpCopy's table (MkdirAll the destination, then dest/<base>). */
async function copyToRemote(source: string, remotePath: string): Promise<void> {
  const q = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
  const lines: string[] = [];
  const parts = remotePath.split('/');
  for (let i = 1; i <= parts.length; i++) lines.push(`-mkdir ${q(parts.slice(0, i).join('/'))}`);
  const dest = copiedDir(source, remotePath);
  if (dest !== remotePath) lines.push(`-mkdir ${q(dest)}`);
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const local = join(d, e.name);
      const target = `${dest}/${relative(source, local)}`;
      if (e.isDirectory()) {
        lines.push(`-mkdir ${q(target)}`);
        await walk(local);
      } else lines.push(`put ${q(local)} ${q(target)}`);
    }
  };
  await walk(source);
  await writeFile(join(dir, 'sftp-batch'), lines.join('\n') + '\n');
  await run('sftp', [...sshArgs(), '-P', String(sshPort), '-b', join(dir, 'sftp-batch'), 'root@127.0.0.1']);
}

/** GET on our nginx with a Host header, retried until `want` holds (a reload swaps workers asynchronously). */
async function until(host: string, path: string, want: (r: { status: number; body: Buffer; digest: string | null; contentType?: string }) => boolean) {
  let last: { status: number; body: Buffer; digest: string | null; contentType?: string } | undefined;
  for (let i = 0; i < 200; i++) {
    try {
      last = await get(host, path);
      if (want(last)) return last;
    } catch {
      // nginx not answering yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`GET ${path} (Host ${host}) never matched; last answer ${last?.status} ${last?.body.toString().slice(0, 80)}`);
}

/** GET with a Host header of our choosing (fetch does not let a caller set Host). */
function get(host: string, path: string): Promise<{ status: number; body: Buffer; digest: string | null; contentType?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: webPort, path, headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), digest: (res.headers[DIGEST_HEADER.toLowerCase()] as string | undefined) ?? null, contentType: res.headers['content-type'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitPort(port: number) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      import('node:net').then(({ connect }) => {
        const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function siteVersion(name: string, index: string) {
  const d = join(dir, name, 'site');
  await mkdir(join(d, 'sub'), { recursive: true });
  await writeFile(join(d, 'index.html'), index);
  await writeFile(join(d, 'sub', 'page.html'), `<p>page of ${name}</p>\n`);
  return { dir: d, digest: (await digestSite(d)).digest, index: Buffer.from(index) };
}

const planFor = (v: { dir: string; digest: string }, serverNames = ['example.org', 'www.example.org']) =>
  siteDeployPlan({ stack: STACK, mirror: 'box', contentDir: v.dir, site: { siteName: 'e2e', digest: v.digest, serverNames }, layout });

before(async () => {
  ensurePackages({ nginx: 'nginx' });
  dir = await mkdtemp(join(tmpdir(), 'flotilla-deploy-'));
  await chmod(dir, 0o755);
  webPort = await freePort();
  sshd = await startSshd();
  sshPort = sshd.port;
  await writeFile(join(dir, 'client_key'), sshd.clientKey, { mode: 0o600 });

  nginxBin = spawnSync('sh', ['-c', 'command -v nginx || echo /usr/sbin/nginx']).stdout.toString().trim();
  for (const d of ['nginx', 'sites-available', 'sites-enabled', 'default-www', 'etc']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'default-www', 'index.html'), 'the box\'s own default site\n');
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    [
      'user root;',
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log;`,
      'events {}',
      'http {',
      '  include /etc/nginx/mime.types;',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
      // what Debian's default site is: the catch-all of the port
      `  server { listen 127.0.0.1:${webPort} default_server; server_name _; root ${dir}/default-www; }`,
      `  include ${dir}/sites-enabled/*;`,
      '}',
      '',
    ].join('\n'),
  );
  const nginxCmd = `${nginxBin} -p ${dir}/nginx -c ${conf}`;
  layout = {
    webBase: join(dir, 'www', 'flotilla'),
    etcDir: join(dir, 'etc'),
    sitesAvailable: join(dir, 'sites-available'),
    sitesEnabled: join(dir, 'sites-enabled'),
    nginxTest: `${nginxCmd} -t -q`,
    reload: `${nginxCmd} -s reload`,
    listen: [`127.0.0.1:${webPort}`],
  };
  nginx = spawnTracked(nginxBin, ['-p', join(dir, 'nginx'), '-c', conf], { stdio: 'ignore' });
  await waitPort(webPort);
});

after(async () => {
  if (nginx) await stopChild(nginx);
  await sshd?.stop();
  // only this run's uploads (named after its stack), then the folder if nothing else is in it
  const uploads = join(homedir(), '.flotilla-upload');
  for (const n of await readdir(uploads).catch(() => [] as string[])) if (n.startsWith(`${STACK}-`)) await rm(join(uploads, n), { recursive: true, force: true });
  await rmdir(uploads).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the deploy step over real SSH to a real nginx', () => {
  let v1: Awaited<ReturnType<typeof siteVersion>>;
  let v2: Awaited<ReturnType<typeof siteVersion>>;
  let p1: SiteDeployPlan;
  let p2: SiteDeployPlan;

  before(async () => {
    v1 = await siteVersion('v1', '<h1>version one</h1>\n');
    v2 = await siteVersion('v2', '<h1>version two, bigger</h1>\n'.repeat(50));
    p1 = planFor(v1);
    p2 = planFor(v2);
  });

  it('create: the copy lands where the script looks, `/` answers the exact bytes, the default site is untouched', async () => {
    assert.equal(p1.uploaded, `${p1.remotePath}/site`, 'a directory without a trailing slash lands one level deeper');
    await copyToRemote(p1.source, p1.remotePath);
    await remote(deployScript(p1, HOST_ID));
    // nginx picks the new site up with its reload, which swaps workers in the background: wait for our header
    const r = await until('example.org', '/', (x) => x.digest === v1.digest);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, v1.index);
    assert.equal((await until('www.example.org', '/sub/page.html', (x) => x.status === 200)).body.toString(), '<p>page of v1</p>\n');
    // the exact layout: releases/<id> holds the site's files themselves, `current` points at it
    assert.equal(await readlink(join(layout.webBase, 'current')), `releases/${p1.releaseId}`);
    assert.deepEqual((await readdir(join(layout.webBase, 'releases', p1.releaseId))).sort(), ['index.html', 'sub']);
    assert.equal((await readFile(join(layout.etcDir, 'site-digest'), 'utf8')).trim(), v1.digest);
    // the upload is gone, and another name still gets the box's own default site
    await assert.rejects(lstat(join(homedir(), p1.remotePath)));
    assert.equal((await until('other.example', '/', (x) => x.status === 200)).body.toString(), 'the box\'s own default site\n');
  });

  it('a configuration nginx refuses is taken back: the script fails, the live site and its config stay as they were', async () => {
    const conf = await readFile(join(layout.sitesAvailable, 'flotilla'), 'utf8');
    const refused = siteDeployPlan({ stack: STACK, mirror: 'box', contentDir: v2.dir, site: { siteName: 'e2e', digest: v2.digest, serverNames: ['example.org'] }, layout: { ...layout, nginxTest: 'false' } });
    await copyToRemote(refused.source, refused.remotePath);
    await assert.rejects(remote(deployScript(refused, HOST_ID)), /nginx refused the new site configuration/);
    assert.equal(await readFile(join(layout.sitesAvailable, 'flotilla'), 'utf8'), conf);
    assert.equal(await readlink(join(layout.webBase, 'current')), `releases/${p1.releaseId}`);
    assert.deepEqual((await until('example.org', '/', (x) => x.status === 200)).body, v1.index);
  });

  it('a non-content change (another server name) re-runs cleanly without a new copy', async () => {
    const p1b = planFor(v1, ['example.org', 'www.example.org', 'alt.example.org']);
    assert.equal(p1b.releaseId, p1.releaseId);
    await remote(deployScript(p1b, HOST_ID));
    assert.deepEqual((await until('alt.example.org', '/', (x) => x.digest === v1.digest)).body, v1.index);
  });

  it('update to new content, then the OLD resource\'s delete: the new site stays', async () => {
    await copyToRemote(p2.source, p2.remotePath);
    await remote(deployScript(p2, HOST_ID));
    assert.deepEqual((await until('example.org', '/', (x) => x.digest === v2.digest)).body, v2.index);
    await remote(removeScript(p1, HOST_ID));
    const r = await until('example.org', '/', (x) => x.status === 200);
    assert.deepEqual(r.body, v2.index);
    assert.equal(await readlink(join(layout.webBase, 'current')), `releases/${p2.releaseId}`);
    await assert.rejects(lstat(join(layout.webBase, 'releases', p1.releaseId)), 'the old release is removed');
  });

  it('a delete reaching another host through the same address (a replacement) removes nothing', async () => {
    await remote(removeScript(p2, 'i-0123456789abcdef0'));
    assert.deepEqual((await until('example.org', '/', (x) => x.status === 200)).body, v2.index);
  });

  it('the mirror leaves the stack: its own delete takes the site out of nginx, nginx and the default site stay', async () => {
    await remote(removeScript(p2, HOST_ID));
    const r = await until('example.org', '/', (x) => x.digest === null);
    assert.equal(r.body.toString(), 'the box\'s own default site\n');
    assert.deepEqual(await readdir(layout.sitesEnabled), []);
    await assert.rejects(lstat(layout.webBase));
    assert.equal((await until('other.example', '/', (x) => x.status === 200)).body.toString(), 'the box\'s own default site\n');
  });
});

describe('the published manifest through the deploy step, served by the real nginx', () => {
  const manifest = (sequence: number) => `${JSON.stringify({ manifest: { v: 1, site: 'e2e', sequence, live: ['example.org'], lost: [{ domain: 'example.net', reason: 'délégation retirée' }] }, signature: 'c2ln', keyId: '0123456789abcdef' }, null, 2)}\n`;
  const withManifest = (v: { dir: string; digest: string }, sequence: number) =>
    siteDeployPlan({ stack: STACK, mirror: 'box', contentDir: v.dir, site: { siteName: 'e2e', digest: v.digest, serverNames: ['example.org'] }, layout, files: manifestDeployFiles(manifest(sequence)), filesNote: `manifest sequence ${sequence}` });
  let v: Awaited<ReturnType<typeof siteVersion>>;

  before(async () => {
    v = await siteVersion('v3', '<h1>version three</h1>\n');
  });

  it('the generated nginx site serves /.well-known/ (no dotfile rule denies it)', () => {
    const conf = nginxSiteConfig({ serverNames: ['example.org'], digest: v.digest, root: '/srv/x' });
    assert.doesNotMatch(conf, /deny|location\s+~\s*\/\\\./);
  });

  it('/.well-known/flotilla.json answers the published bytes, as JSON, next to the site; a new sequence replaces it', async () => {
    const p3 = withManifest(v, 3);
    await copyToRemote(p3.source, p3.remotePath);
    await remote(deployScript(p3, HOST_ID));
    const r = await until('example.org', MANIFEST_PATH, (x) => x.status === 200 && x.digest === v.digest);
    assert.deepEqual(r.body, Buffer.from(manifest(3), 'utf8'));
    assert.match(r.contentType ?? '', /^application\/json/);
    assert.deepEqual((await until('example.org', '/', (x) => x.digest === v.digest)).body, v.index);

    const p4 = withManifest(v, 4);
    assert.notEqual(p4.releaseId, p3.releaseId, 'a new manifest is a new release');
    await copyToRemote(p4.source, p4.remotePath);
    await remote(deployScript(p4, HOST_ID));
    assert.deepEqual((await until('example.org', MANIFEST_PATH, (x) => x.body.equals(Buffer.from(manifest(4), 'utf8')))).status, 200);
    assert.equal(await readlink(join(layout.webBase, 'current')), `releases/${p4.releaseId}`);
    await remote(removeScript(p4, HOST_ID));
  });
});
