/**
 * Many cheap HTTP probe targets: ONE nginx process (Debian `nginx`, `master_process off`, so one pid to kill)
 * listening on `count` (address, port) pairs — 50 ports on each of 127.0.1.1, 127.0.1.2, ... — answering
 * `200 ok` to every GET. Access log off.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePackages } from '../../test/support/ensure-packages.ts';
import { commonFreePort } from './ports.ts';
import { startDaemon, trackTempDir } from './procs.ts';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface NginxTargets {
  endpoints: Endpoint[];
  pid: number;
  stop(): Promise<void>;
}

const PORTS_PER_ADDRESS = 50;

export async function startNginxTargets(count: number): Promise<NginxTargets> {
  ensurePackages({ nginx: 'nginx' });
  const addresses = Array.from({ length: Math.ceil(count / PORTS_PER_ADDRESS) }, (_, i) => `127.0.1.${i + 1}`);
  if (addresses.length > 254) throw new Error('at most 12,700 endpoints');
  const ports: number[] = [];
  while (ports.length < Math.min(PORTS_PER_ADDRESS, count)) {
    const p = await commonFreePort(addresses);
    if (!ports.includes(p)) ports.push(p);
  }
  const endpoints: Endpoint[] = [];
  for (const ip of addresses) for (const port of ports) if (endpoints.length < count) endpoints.push({ ip, port });

  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'flotilla-bench-nginx-')));
  mkdirSync(join(dir, 'tmp'));
  const conf = [
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 16000; multi_accept on; }',
    'http {',
    '  access_log off;',
    '  keepalive_timeout 30s;',
    '  keepalive_requests 100000;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, 'tmp', t)};`),
    '  server {',
    ...endpoints.map((e) => `    listen ${e.ip}:${e.port};`),
    '    default_type text/plain;',
    '    location / { return 200 "ok\\n"; }',
    '  }',
    '}',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const daemon = startDaemon('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { label: 'nginx targets' });
  const last = endpoints[endpoints.length - 1];
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (daemon.exited()) throw new Error(`nginx exited:\n${daemon.log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: last.ip, port: last.port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`nginx did not listen on ${last.ip}:${last.port} within 20 s:\n${daemon.log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoints, pid: daemon.pid, stop: daemon.stop };
}
