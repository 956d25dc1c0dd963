/**
 * A real `unbound` recursive resolver in the foreground (`unbound -d -c CONF`) on a loopback port, resolving `stubZone`
 * from a local parent zone (stub-zone) and following its delegations like any resolver in the world. For a drill:
 * `cache-max-ttl` caps every TTL so "after the TTLs" is seconds, not minutes; localhost may be queried; no DNSSEC.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryDns } from '../../src/dns/dns-client.ts';
import { runDaemon, type Daemon } from './bind-server.ts';
import { freePort } from './ports.ts';

export interface UnboundServer {
  /** `127.0.0.1:port` */
  address: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startUnbound(o: { stubZone: string; parent: string; cacheMaxTtl?: number }): Promise<UnboundServer> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-unbound-'));
  const port = await freePort('127.0.0.1');
  const [ph, pp] = o.parent.split(':');
  const conf = [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  do-daemonize: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 1',
    '  do-ip6: no',
    '  access-control: 127.0.0.0/8 allow',
    '  do-not-query-localhost: no',
    '  module-config: "iterator"',
    '  qname-minimisation: no',
    `  cache-max-ttl: ${o.cacheMaxTtl ?? 2}`,
    '  cache-max-negative-ttl: 1',
    // forget a server's lameness and round-trip data as fast as the records
    `  infra-host-ttl: ${o.cacheMaxTtl ?? 2}`,
    '  num-threads: 1',
    `  local-zone: "${o.stubZone}." nodefault`,
    'remote-control:',
    '  control-enable: no',
    'stub-zone:',
    `  name: "${o.stubZone}."`,
    `  stub-addr: ${ph}@${pp}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'unbound.conf'), conf);
  const d: Daemon = runDaemon('unbound', ['-d', '-c', join(dir, 'unbound.conf')], dir);
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (d.child.exitCode !== null || d.child.signalCode !== null) throw new Error(`unbound exited before answering:\n${d.log()}`);
    const r = await queryDns({ server: address, name: `${o.stubZone}`, type: 'SOA', timeoutMs: 300, recursion: true });
    if (r.ok) break;
    if (Date.now() > deadline) {
      await d.stop();
      throw new Error(`unbound did not answer at ${address} within 15 s:\n${d.log()}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  return { address, log: d.log, stop: d.stop };
}
