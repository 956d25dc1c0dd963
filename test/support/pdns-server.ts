/**
 * A real PowerDNS Authoritative server (Debian's pdns-server + pdns-backend-sqlite3) for tests: runs in the
 * foreground on 127.0.0.1 with free ports, a fresh sqlite database and the HTTP API on, in a temp dir.
 * Zones are created through the API (kind Native). Throws (never skips) when the server cannot start.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnTracked } from './child-processes.ts';
import { ensurePackages } from './ensure-packages.ts';
import { freePort } from './ports.ts';

export interface PdnsServer {
  /** `host:port` of the DNS listener (127.0.0.1 unless asked otherwise). */
  dnsAddress: string;
  /** Base URL of the webserver, e.g. `http://127.0.0.1:8081` (the API is under /api/v1). */
  apiUrl: string;
  apiKey: string;
  serverId: string;
  /** Creates a Native zone through the API (name without trailing dot). */
  createZone(zone: string): Promise<void>;
  /** The pdns_server process id (tests SIGSTOP it to simulate an outage). */
  pid: number;
  stop(): Promise<void>;
}

const SCHEMA_CANDIDATES = [
  '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql',
  '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql',
];

export function ensurePdnsPackages(): void {
  ensurePackages({ dig: 'dnsutils', pdns_server: 'pdns-server', sqlite3: 'sqlite3' });
  if (!SCHEMA_CANDIDATES.some(existsSync)) ensureBackendPackage();
}

function ensureBackendPackage(): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'pdns-backend-sqlite3'], { stdio: 'ignore', env });
  if (!SCHEMA_CANDIDATES.some(existsSync)) throw new Error('installed pdns-backend-sqlite3 but its sqlite schema is missing');
}

/** `dnsAddress`/`dnsPort`: where the DNS listener binds (default 127.0.0.1 and a free port). */
export async function startPdnsServer(opts: { zones?: string[]; dnsAddress?: string; dnsPort?: number } = {}): Promise<PdnsServer> {
  ensurePdnsPackages();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-pdns-'));
  const db = join(dir, 'pdns.sqlite3');
  const schema = SCHEMA_CANDIDATES.find(existsSync)!;
  execFileSync('sqlite3', [db], { input: readFileSync(schema) });
  const dnsHost = opts.dnsAddress ?? '127.0.0.1';
  const dnsPort = opts.dnsPort ?? (await freePort());
  let webPort = await freePort();
  while (webPort === dnsPort) webPort = await freePort();
  const apiKey = randomBytes(16).toString('hex');
  writeFileSync(
    join(dir, 'pdns.conf'),
    [
      'launch=gsqlite3',
      `gsqlite3-database=${db}`,
      `local-address=${dnsHost}`,
      `local-port=${dnsPort}`,
      'api=yes',
      // no security-status lookup through the system resolver: nothing outside loopback is ever contacted
      'security-poll-suffix=',
      `api-key=${apiKey}`,
      'webserver=yes',
      'webserver-address=127.0.0.1',
      `webserver-port=${webPort}`,
      'webserver-allow-from=127.0.0.0/8',
      `socket-dir=${dir}`,
      'guardian=no',
      'daemon=no',
      'disable-syslog=yes',
      'loglevel=4',
      'default-soa-content=ns1.@ hostmaster.@ 0 3600 600 604800 60',
      // no caches: a test reads its own write at once
      'cache-ttl=0',
      'negquery-cache-ttl=0',
      'query-cache-ttl=0',
      'zone-cache-refresh-interval=0',
      'distributor-threads=1',
      'receiver-threads=1',
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'pdns.log');
  const logFd = openSync(logFile, 'w');
  const child: ChildProcess = spawnTracked('pdns_server', [`--config-dir=${dir}`, '--daemon=no', '--guardian=no'], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited: string | undefined;
  child.on('exit', (code, sig) => (exited = `exited with ${code ?? sig}`));
  child.on('error', (err) => (exited = `failed to start: ${err.message}`));

  const apiUrl = `http://127.0.0.1:${webPort}`;
  const serverId = 'localhost';
  const headers = { 'X-API-Key': apiKey, 'Content-Type': 'application/json', Accept: 'application/json' };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '');

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) {
      const tail = log();
      await stop();
      throw new Error(`pdns_server ${exited}:\n${tail}`);
    }
    const ok = await fetch(`${apiUrl}/api/v1/servers/${serverId}`, { headers, signal: AbortSignal.timeout(1000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      const tail = log();
      await stop();
      throw new Error(`pdns_server did not answer its API within 15 s:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const createZone = async (zone: string) => {
    const res = await fetch(`${apiUrl}/api/v1/servers/${serverId}/zones`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `${zone}.`, kind: 'Native', nameservers: [`ns1.${zone}.`] }),
    });
    if (res.status !== 201) throw new Error(`creating zone ${zone} at PowerDNS: HTTP ${res.status} ${await res.text()}`);
  };
  try {
    for (const z of opts.zones ?? []) await createZone(z);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dnsAddress: `${dnsHost}:${dnsPort}`, apiUrl, apiKey, serverId, createZone, stop, pid: child.pid! };
}
