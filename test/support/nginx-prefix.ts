/**
 * A real nginx in a prefix directory of its own, in the foreground on loopback: the main config includes
 * `<prefix>/conf.d/*.conf` (empty at start: only a plain HTTP server on `httpPort`), so a deploy script can drop a
 * site config there, run `nginx -p PREFIX -c FILE -t` and `-s reload` exactly as on a mirror.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked, stopChild } from './child-processes.ts';
import { ensurePackages } from './ensure-packages.ts';

export interface NginxPrefix {
  dir: string;
  /** The nginx command for this prefix (`/usr/sbin/nginx -p DIR/ -c DIR/nginx.conf`). */
  command: string;
  webRoot: string;
  pid: number;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

export async function startNginxPrefix(o: { files?: Record<string, string> } = {}): Promise<NginxPrefix> {
  ensurePackages({ nginx: 'nginx' });
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-nginx-tls-'));
  await chmod(dir, 0o755);
  const webRoot = join(dir, 'www');
  await mkdir(join(dir, 'conf.d'), { recursive: true });
  await mkdir(webRoot, { recursive: true, mode: 0o755 });
  for (const [path, text] of Object.entries(o.files ?? {})) {
    await mkdir(join(webRoot, path, '..'), { recursive: true });
    await writeFile(join(webRoot, path), text, { mode: 0o644 });
  }
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
    `  include ${dir}/conf.d/*.conf;`,
    '}',
    '',
  ].join('\n');
  await writeFile(join(dir, 'nginx.conf'), conf);
  const bin = spawnSync('sh', ['-c', 'command -v nginx || echo /usr/sbin/nginx']).stdout.toString().trim();
  const args = ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf')];
  const proc: ChildProcess = spawnTracked(bin, args, { stdio: 'ignore' });
  const pidFile = join(dir, 'nginx.pid');
  for (let i = 0; ; i++) {
    const pid = await readFile(pidFile, 'utf8').catch(() => '');
    if (pid.trim()) break;
    if (proc.exitCode !== null || i > 200) throw new Error(`nginx did not start: ${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    dir,
    command: `${bin} -p ${dir}/ -c ${join(dir, 'nginx.conf')}`,
    webRoot,
    pid: proc.pid!,
    errorLog: () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''),
    async stop() {
      await stopChild(proc);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
