/**
 * Starts a real Knot DNS `knotd` in the foreground on 127.0.0.1 with a free port, its rundir, journal and zone files
 * in a temp dir, serving primary zones whose ACL allows TSIG-signed update and transfer. No `user:` setting, so knotd
 * keeps the uid that started it (root in tests) and can write the temp dir.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchPrimary, makeKeys, type DnsServerHandle, type DnsServerOptions } from './bind-server.ts';
import { ensurePackages } from './ensure-packages.ts';
import { freePort } from './ports.ts';

export type { DnsServerHandle, DnsServerOptions } from './bind-server.ts';

export async function startKnot(opts: DnsServerOptions = {}): Promise<DnsServerHandle> {
  ensurePackages({ knotd: 'knot', dig: 'bind9-dnsutils', nsupdate: 'bind9-dnsutils' });
  const zones = opts.zones ?? ['knot.test'];
  const keys = makeKeys(opts.extraKeys);
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-knot-'));
  const port = await freePort('127.0.0.1');
  const conf = [
    'server:',
    `    rundir: "${dir}"`,
    `    listen: 127.0.0.1@${port}`,
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'log:',
    '  - target: stderr',
    '    any: info',
    'database:',
    `    storage: "${dir}"`,
    'key:',
    ...keys.flatMap((k) => [`  - id: ${k.name}`, `    algorithm: ${k.algorithm}`, `    secret: ${k.secret}`]),
    'acl:',
    '  - id: flotilla',
    `    key: [${keys.filter((k) => k.allowed).map((k) => k.name).join(', ')}]`,
    '    action: [update, transfer]',
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    file: "%s.zone"',
    'zone:',
    ...zones.flatMap((z) => [`  - domain: ${z}`, '    acl: flotilla']),
    '',
  ].join('\n');
  await writeFile(join(dir, 'knot.conf'), conf);
  return launchPrimary({ cmd: 'knotd', args: ['-c', join(dir, 'knot.conf')], dir, port, zones, keys, extraRecords: opts.extraRecords });
}
