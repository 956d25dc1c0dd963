/**
 * PowerDNS Authoritative (Debian `pdns-server` + `pdns-backend-bind`) in the foreground on 127.0.0.1 with a free
 * port, serving one zone from a zone file whose names are LUA records:
 *   NAME IN LUA A "ifurlup('http://HOST:PORT/', {'ip1','ip2','ip3'}, {selector='all', timeout='1'})"
 * ifurlup checks the URL on each address (the port comes from the URL, the Host header from its host part);
 * `selector='all'` answers every address that is up (the default selector answers ONE at random). PowerDNS marks an
 * address down on a single failed check (no hysteresis in 4.7) and checks every lua-health-checks-interval seconds.
 * Caches are off so an answer reflects the monitor at once; the security poll is off (loopback only).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePackages } from '../../test/support/ensure-packages.ts';
import { freePort } from '../../test/support/ports.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { startDaemon, trackTempDir } from '../lib/procs.ts';

export interface LuaRecord {
  name: string;
  addresses: string[];
  port: number;
  host: string;
  path: string;
}

export interface PdnsLuaSettings {
  /** lua-health-checks-interval, seconds. */
  interval: number;
  /** ifurlup `timeout` option, seconds (default 2). */
  timeout: number;
}

export interface PdnsLuaServer {
  address: string;
  pid: number;
  settings: PdnsLuaSettings;
  version: string;
  log(): string;
  stop(): Promise<void>;
}

const BIND_BACKEND = '/usr/lib/x86_64-linux-gnu/pdns/libbindbackend.so';

export function ensurePdnsLua(): void {
  ensurePackages({ pdns_server: 'pdns-server' });
  if (!existsSync(BIND_BACKEND)) ensurePackages({ [BIND_BACKEND]: 'pdns-backend-bind' });
}

export async function startPdnsLua(o: { zone: string; records: LuaRecord[]; settings: PdnsLuaSettings; ttl: number }): Promise<PdnsLuaServer> {
  ensurePdnsLua();
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'flotilla-bench-pdns-lua-')));
  const port = await freePort();
  const zoneFile = join(dir, `${o.zone}.zone`);
  writeFileSync(join(dir, 'named.conf'), `zone "${o.zone}" { type master; file "${zoneFile}"; };\n`);
  const lua = (r: LuaRecord) =>
    `"ifurlup('http://${r.host}:${r.port}${r.path}', {${r.addresses.map((a) => `'${a}'`).join(',')}}, {selector='all', timeout='${o.settings.timeout}'})"`;
  writeFileSync(
    zoneFile,
    [
      `$TTL ${o.ttl}`,
      `@ IN SOA ns1.${o.zone}. hostmaster.${o.zone}. 1 3600 600 86400 ${o.ttl}`,
      `@ IN NS ns1.${o.zone}.`,
      'ns1 IN A 127.0.0.1',
      ...o.records.map((r) => `${r.name} IN LUA A ${lua(r)}`),
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'pdns.conf'),
    [
      'launch=bind',
      `bind-config=${join(dir, 'named.conf')}`,
      'local-address=127.0.0.1',
      `local-port=${port}`,
      `socket-dir=${dir}`,
      'guardian=no',
      'daemon=no',
      'disable-syslog=yes',
      'security-poll-suffix=',
      'enable-lua-records=yes',
      `lua-health-checks-interval=${o.settings.interval}`,
      'cache-ttl=0',
      'negquery-cache-ttl=0',
      'query-cache-ttl=0',
      'zone-cache-refresh-interval=0',
      'loglevel=5',
      '',
    ].join('\n'),
  );
  const daemon = startDaemon('pdns_server', [`--config-dir=${dir}`, '--daemon=no', '--guardian=no'], { label: 'pdns-lua' });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (daemon.exited()) throw new Error(`pdns_server (LUA) exited before serving:\n${daemon.log()}`);
    const r = await queryDns({ server: address, name: o.zone, type: 'SOA', timeoutMs: 250 });
    if (r.ok && r.rcode === 'NOERROR') break;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`pdns_server (LUA) did not answer at ${address} within 15 s:\n${daemon.log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const version = /PowerDNS Authoritative Server (\S+)/.exec(daemon.log())?.[1] ?? 'unknown';
  return { address, pid: daemon.pid, settings: o.settings, version, log: daemon.log, stop: daemon.stop };
}
