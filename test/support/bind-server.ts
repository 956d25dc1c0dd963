/**
 * Starts a real BIND9 `named` in the foreground on 127.0.0.1 with a port of its own, serving primary zones that
 * accept TSIG-signed UPDATE and AXFR. named only listens on addresses configured on an interface, hence 127.0.0.1.
 * Runs as root without `-u` (named then keeps its uid and can write the journal in the temp dir).
 * Also exports the process helpers knot-server.ts shares.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryDns } from '../../src/dns/dns-client.ts';
import { spawnTracked, stopChild } from './child-processes.ts';
import { ensurePackages } from './ensure-packages.ts';
import { freePort } from './ports.ts';

export type TestTsigAlgorithm = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha1';

export interface TestTsigKey {
  name: string;
  algorithm: TestTsigAlgorithm;
  /** base64 */
  secret: string;
  /** In the zones' update/transfer ACL. */
  allowed: boolean;
}

export interface DnsServerOptions {
  /** Zones to serve; default one zone (`example.test` for BIND, `knot.test` for Knot). */
  zones?: string[];
  /**
   * Extra TSIG keys (the first key is always hmac-sha256 `flotilla-key`). They may update and transfer unless
   * `allowed: false`: then the server knows the key but its ACL refuses it.
   */
  extraKeys?: { name: string; algorithm: TestTsigAlgorithm; allowed?: boolean }[];
  /** Extra zone-file lines per zone (relative names are fine). */
  extraRecords?: Record<string, string[]>;
  /** Port on 127.0.0.1 (default: a free one); several servers on one port at different addresses form a lab delegation. */
  port?: number;
}

export interface DnsServerHandle {
  /** `127.0.0.1:port` */
  address: string;
  keyName: string;
  /** base64 secret of `keyName` (hmac-sha256). */
  secret: string;
  algorithm: TestTsigAlgorithm;
  keys: TestTsigKey[];
  /** The first zone. */
  zone: string;
  zones: string[];
  dir: string;
  /** Server output so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const SECRET_BYTES: Record<TestTsigAlgorithm, number> = { 'hmac-sha256': 32, 'hmac-sha512': 64, 'hmac-sha1': 20 };

export function makeKeys(extra: DnsServerOptions['extraKeys'] = []): TestTsigKey[] {
  return [{ name: 'flotilla-key', algorithm: 'hmac-sha256' as const }, ...extra].map((k) => ({
    name: k.name,
    algorithm: k.algorithm,
    secret: randomBytes(SECRET_BYTES[k.algorithm]).toString('base64'),
    allowed: (k as { allowed?: boolean }).allowed !== false,
  }));
}

/** A zone holding only its SOA and apex NS (plus `extra`); the NS is `localhost.` so no glue sits in the zone. */
export function zoneFileText(zone: string, extra: string[] = []): string {
  return [
    '$TTL 300',
    `@ IN SOA localhost. hostmaster.${zone}. 1 3600 600 86400 60`,
    '@ IN NS localhost.',
    ...extra,
    '',
  ].join('\n');
}

export interface Daemon {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Spawns a server in the foreground; stop() kills it by pid (TERM, then KILL) and removes `dir`. */
export function runDaemon(cmd: string, args: string[], dir: string): Daemon {
  const child = spawnTracked(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let stopped = false;
  return {
    child,
    log: () => output,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until the server answers SOA for every zone authoritatively; throws with the server log if it died or timed out. */
export async function waitForZones(address: string, zones: string[], daemon: Daemon, label: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const zone of zones) {
    for (;;) {
      if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
        throw new Error(`${label} exited (${daemon.child.exitCode ?? daemon.child.signalCode}) before serving ${zone}:\n${daemon.log()}`);
      }
      const r = await queryDns({ server: address, name: zone, type: 'SOA', timeoutMs: 250 });
      if (r.ok && r.rcode === 'NOERROR' && r.authoritative && r.answers.some((a) => a.type === 'SOA')) break;
      if (Date.now() > deadline) {
        await daemon.stop();
        throw new Error(`${label} did not serve ${zone} at ${address} within ${timeoutMs}ms:\n${daemon.log()}`);
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}

export async function startBind(opts: DnsServerOptions = {}): Promise<DnsServerHandle> {
  ensurePackages({ named: 'bind9', dig: 'bind9-dnsutils', nsupdate: 'bind9-dnsutils' });
  const zones = opts.zones ?? ['example.test'];
  const keys = makeKeys(opts.extraKeys);
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bind-'));
  const port = opts.port ?? (await freePort('127.0.0.1'));
  const keyList = keys.filter((k) => k.allowed).map((k) => `key "${k.name}";`).join(' ');
  const conf = [
    'options {',
    `  directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    `  pid-file "${dir}/named.pid";`,
    `  session-keyfile "${dir}/session.key";`,
    '  recursion no;',
    '  notify no;',
    '  dnssec-validation no;',
    '};',
    // no rndc channel: nothing else to bind, so parallel servers never clash
    'controls { };',
    ...keys.map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`),
    ...zones.map(
      (z) => `zone "${z}" { type primary; file "${dir}/${z}.zone"; allow-update { ${keyList} }; allow-transfer { ${keyList} }; };`,
    ),
    '',
  ].join('\n');
  await writeFile(join(dir, 'named.conf'), conf);
  return launchPrimary({ cmd: 'named', args: ['-g', '-c', join(dir, 'named.conf')], dir, port, zones, keys, extraRecords: opts.extraRecords });
}

/** Writes the zone files, runs the server in the foreground, waits until it answers every zone: shared by BIND and Knot. */
export async function launchPrimary(o: { cmd: string; args: string[]; dir: string; port: number; zones: string[]; keys: TestTsigKey[]; extraRecords?: Record<string, string[]> }): Promise<DnsServerHandle> {
  for (const z of o.zones) await writeFile(join(o.dir, `${z}.zone`), zoneFileText(z, o.extraRecords?.[z]));
  const daemon = runDaemon(o.cmd, o.args, o.dir);
  const address = `127.0.0.1:${o.port}`;
  await waitForZones(address, o.zones, daemon, o.cmd);
  const k = o.keys[0];
  return { address, keyName: k.name, secret: k.secret, algorithm: k.algorithm, keys: o.keys, zone: o.zones[0], zones: o.zones, dir: o.dir, log: daemon.log, stop: daemon.stop };
}

/** Zone-file form of one value for nsupdate/zone files: TXT quoted (split into 255-byte strings), names absolute. */
export function presentValue(type: string, value: string): string {
  if (type === 'TXT') {
    const bytes = Buffer.from(value, 'utf8');
    const parts: string[] = [];
    for (let i = 0; i < Math.max(1, bytes.length); i += 255) parts.push(bytes.subarray(i, i + 255).toString('utf8'));
    return parts.map((p) => `"${p.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(' ');
  }
  if (type === 'CNAME' || type === 'NS') return `${value}.`;
  if (type === 'MX' || type === 'SRV') return `${value}.`;
  return value;
}

/**
 * Runs `nsupdate -y alg:name:secret` against the server with the given update commands (e.g. `update add ...`),
 * so records really come from outside flotilla. Throws with nsupdate's output when it fails.
 */
export async function nsupdate(server: DnsServerHandle, zone: string, commands: string[], key: TestTsigKey = server.keys[0]): Promise<void> {
  const [host, port] = server.address.split(':');
  const script = [`server ${host} ${port}`, `zone ${zone}`, ...commands, 'send', ''].join('\n');
  await new Promise<void>((resolve, reject) => {
    const child = spawnTracked('nsupdate', ['-y', `${key.algorithm}:${key.name}:${key.secret}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && !/failed/i.test(out) ? resolve() : reject(new Error(`nsupdate exited ${code}: ${out}`))));
    child.stdin.end(script);
  });
}
