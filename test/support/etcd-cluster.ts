/**
 * A real 3-member etcd cluster (Debian `etcd-server`) on 127.0.0.1, each member in the foreground with its own
 * client and peer port and data dir under one temp dir. Members can be killed (SIGKILL, by pid) and started again
 * on their data dir; stop() kills every member by pid and removes the temp dir, and every process is also
 * registered with the child-process safety net, so nothing outlives the test file even when a test fails.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { running, spawnTracked, stopChild } from './child-processes.ts';
import { ensurePackages } from './ensure-packages.ts';
import { freePort } from './ports.ts';

export interface EtcdMember {
  name: string;
  /** Client URL, `http://127.0.0.1:PORT`. */
  endpoint: string;
  pid(): number | undefined;
  log(): string;
  running(): boolean;
}

export interface EtcdCluster {
  members: EtcdMember[];
  endpoints: string[];
  dir: string;
  /** SIGKILLs one member (by pid); its data dir stays. */
  kill(i: number): Promise<void>;
  /** Starts a killed member again on its data dir; resolves when it is healthy (needs a quorum to be up). */
  restart(i: number, opts?: { waitHealthy?: boolean }): Promise<void>;
  /** Resolves when `endpoint`'s /health says true (the cluster has a leader and quorum). */
  waitHealthy(i: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startEtcdCluster(opts: { size?: number; timeoutMs?: number } = {}): Promise<EtcdCluster> {
  ensurePackages({ etcd: 'etcd-server' });
  const size = opts.size ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-etcd-cluster-'));
  const used = new Set<number>();
  const port = async () => {
    for (;;) {
      const p = await freePort('127.0.0.1');
      if (!used.has(p)) { used.add(p); return p; }
    }
  };
  const spec: { name: string; client: string; peer: string }[] = [];
  for (let i = 0; i < size; i++) spec.push({ name: `m${i}`, client: `http://127.0.0.1:${await port()}`, peer: `http://127.0.0.1:${await port()}` });
  const initialCluster = spec.map((s) => `${s.name}=${s.peer}`).join(',');
  const token = `flotilla-${randomBytes(4).toString('hex')}`;
  const children: (ChildProcess | undefined)[] = [];
  const logs: string[] = spec.map(() => '');

  const launch = (i: number) => {
    const s = spec[i];
    const child = spawnTracked('etcd', [
      '--name', s.name,
      '--data-dir', join(dir, s.name),
      '--listen-client-urls', s.client,
      '--advertise-client-urls', s.client,
      '--listen-peer-urls', s.peer,
      '--initial-advertise-peer-urls', s.peer,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
    ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (b: Buffer) => { logs[i] = (logs[i] + b.toString()).slice(-20_000); };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    children[i] = child;
  };

  const healthy = (i: number) =>
    fetch(`${spec[i].client}/health`, { signal: AbortSignal.timeout(500) })
      .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true')
      .catch(() => false);

  const waitHealthy = async (i: number, timeoutMs = opts.timeoutMs ?? 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = children[i];
      if (!c || !running(c)) throw new Error(`etcd member ${spec[i].name} is not running:\n${logs[i]}`);
      if (await healthy(i)) return;
      if (Date.now() > deadline) throw new Error(`etcd member ${spec[i].name} did not become healthy at ${spec[i].client}:\n${logs[i]}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async () => {
    await Promise.all(children.map((c) => (c ? stopChild(c, { signal: 'SIGKILL' }) : undefined)));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < size; i++) launch(i);
    for (let i = 0; i < size; i++) await waitHealthy(i);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    dir,
    endpoints: spec.map((s) => s.client),
    members: spec.map((s, i) => ({
      name: s.name,
      endpoint: s.client,
      pid: () => children[i]?.pid,
      log: () => logs[i],
      running: () => !!children[i] && running(children[i]!),
    })),
    async kill(i) {
      const c = children[i];
      if (c) await stopChild(c, { signal: 'SIGKILL' });
    },
    async restart(i, o = {}) {
      const c = children[i];
      if (c && running(c)) return;
      launch(i);
      if (o.waitHealthy ?? true) await waitHealthy(i);
    },
    waitHealthy,
    stop,
  };
}
