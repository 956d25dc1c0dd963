/**
 * gdnsd (Debian `gdnsd`, 3.x) in the foreground on 127.0.0.1 with a free port: one zone whose names are `DYNA`
 * records answered by the multifo plugin (all non-DOWN addresses), each address monitored by the http_status
 * plugin. Config syntax from gdnsd.config(5), gdnsd-plugin-multifo(8), gdnsd-plugin-http_status(8).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePackages } from '../../test/support/ensure-packages.ts';
import { freePort } from '../../test/support/ports.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { startDaemon, trackTempDir, type Daemon } from '../lib/procs.ts';

export interface GdnsdResource {
  /** Label under the zone (`@` for the apex). */
  name: string;
  addresses: string[];
  port: number;
  path: string;
  vhost: string;
}

export interface GdnsdSettings {
  /** Seconds between checks (gdnsd's minimum is 1; integer). */
  interval: number;
  /** Failures (not necessarily consecutive) before DOWN; reset by `okThresh` successes in a row. */
  downThresh: number;
  /** Successes in a row from DOWN to UP. */
  upThresh: number;
  okThresh: number;
  /** Seconds (integer, < interval). */
  timeout: number;
}

export interface GdnsdServer {
  address: string;
  pid: number;
  settings: GdnsdSettings;
  log(): string;
  stop(): Promise<void>;
}

export function ensureGdnsd(): void {
  ensurePackages({ gdnsd: 'gdnsd' });
}

export async function startGdnsd(o: { zone: string; resources: GdnsdResource[]; settings: GdnsdSettings; ttl: number }): Promise<GdnsdServer> {
  ensureGdnsd();
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'flotilla-bench-gdnsd-')));
  mkdirSync(join(dir, 'zones'));
  const port = await freePort();
  const s = o.settings;
  // one service type per (port, path, vhost) so resources may differ
  const types = new Map<string, GdnsdResource>();
  for (const r of o.resources) types.set(`web_${r.port}`, r);
  const config = [
    'options => {',
    `  listen => [ 127.0.0.1:${port} ]`,
    `  run_dir => ${join(dir, 'run')}`,
    `  state_dir => ${join(dir, 'state')}`,
    `  zones_default_ttl => ${o.ttl}`,
    '}',
    'service_types => {',
    ...[...types].map(([name, r]) =>
      `  ${name} => { plugin => http_status, port => ${r.port}, url_path => "${r.path}", vhost => ${r.vhost}, ` +
      `interval => ${s.interval}, timeout => ${s.timeout}, down_thresh => ${s.downThresh}, up_thresh => ${s.upThresh}, ok_thresh => ${s.okThresh} }`),
    '}',
    'plugins => {',
    '  multifo => {',
    ...o.resources.map((r, i) =>
      // up_thresh 0.1: keep answering with the survivors down to one address (the default 0.5 would fail open at 1 of 3)
      `    res${i} => { service_types => web_${r.port}, up_thresh => 0.1, ${r.addresses.map((a, j) => `m${j} => ${a}`).join(', ')} }`),
    '  }',
    '}',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config'), config);
  writeFileSync(
    join(dir, 'zones', o.zone),
    [
      `$TTL ${o.ttl}`,
      `@ SOA ns1 hostmaster 1 3600 600 86400 ${o.ttl}`,
      '@ NS ns1',
      'ns1 A 127.0.0.1',
      ...o.resources.map((r, i) => `${r.name} DYNA multifo!res${i}`),
      '',
    ].join('\n'),
  );
  const daemon: Daemon = startDaemon('gdnsd', ['-c', dir, 'start'], { label: 'gdnsd' });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (daemon.exited()) throw new Error(`gdnsd exited before serving:\n${daemon.log()}`);
    const r = await queryDns({ server: address, name: o.zone, type: 'SOA', timeoutMs: 250 });
    if (r.ok && r.rcode === 'NOERROR') break;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`gdnsd did not answer at ${address} within 15 s:\n${daemon.log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { address, pid: daemon.pid, settings: s, log: daemon.log, stop: daemon.stop };
}
