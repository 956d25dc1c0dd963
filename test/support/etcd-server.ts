/**
 * Starts a real single-member etcd (Debian `etcd-server`) in the foreground on 127.0.0.1, with free client and peer
 * ports and its data dir in a temp dir; waits until /health says true. stop() kills it by pid and removes the dir.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDaemon } from './bind-server.ts';
import { ensurePackages } from './ensure-packages.ts';
import { freePort } from './ports.ts';

export interface EtcdHandle {
  /** Client URL, `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** What /version reported, e.g. `3.4.23`. */
  version: string;
  pid: number;
  dir: string;
  /** Server output so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export async function startEtcd(opts: { timeoutMs?: number } = {}): Promise<EtcdHandle> {
  ensurePackages({ etcd: 'etcd-server' });
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-etcd-'));
  const clientPort = await freePort('127.0.0.1');
  let peerPort = await freePort('127.0.0.1');
  while (peerPort === clientPort) peerPort = await freePort('127.0.0.1');
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const daemon = runDaemon(
    'etcd',
    [
      '--name', 'flotilla-test',
      '--data-dir', join(dir, 'data'),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `flotilla-test=${peer}`,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `flotilla-${randomBytes(4).toString('hex')}`,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
    ],
    dir,
  );
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
      await daemon.stop();
      throw new Error(`etcd exited (${daemon.child.exitCode ?? daemon.child.signalCode}) before serving ${client}:\n${daemon.log()}`);
    }
    const healthy = await fetch(`${client}/health`, { signal: AbortSignal.timeout(500) })
      .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true')
      .catch(() => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`etcd did not become healthy at ${client}:\n${daemon.log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const version = ((await (await fetch(`${client}/version`)).json()) as { etcdserver?: string }).etcdserver ?? 'unknown';
  return { endpoint: client, version, pid: daemon.child.pid!, dir, log: daemon.log, stop: daemon.stop };
}
