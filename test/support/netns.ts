/**
 * A network namespace of our own, for real packet faults: `ip netns add`, its own `lo` up, iptables rules inside it
 * only, and processes started in it (`ip netns exec`, which execs: the pid is the process's own). Nothing leaves the
 * namespace: its only interface is its loopback. destroy() (also run at process exit) kills what was started in it
 * by pid and deletes the namespace, which takes its rules with it.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { ensurePackages } from './ensure-packages.ts';

export interface NetNs {
  name: string;
  /** Runs a command inside the namespace and returns its stdout (throws on failure). */
  exec(cmd: string, args: string[]): string;
  /** `iptables ARGS` inside the namespace. */
  iptables(...args: string[]): void;
  /** Starts a process inside the namespace (tracked: killed by destroy()). */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Kills what was started in it, by pid, and deletes the namespace. Idempotent. */
  destroy(): void;
}

const live = new Set<NetNs>();
let hooked = false;

/** Why namespaces with iptables cannot be used here, or undefined when they can (installs iproute2/iptables). */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    ensurePackages({ ip: 'iproute2', iptables: 'iptables' });
  } catch (e) {
    return `cannot install iproute2/iptables: ${(e as Error).message}`;
  }
  return undefined;
}

export function createNetNs(prefix: string): NetNs {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const ns of live) ns.destroy(); });
  }
  const name = `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`.slice(0, 40);
  execFileSync('ip', ['netns', 'add', name]);
  const children = new Set<ChildProcess>();
  let gone = false;
  const ns: NetNs = {
    name,
    exec: (cmd, args) => execFileSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8' }),
    iptables: (...args) => void execFileSync('ip', ['netns', 'exec', name, 'iptables', ...args]),
    spawn(cmd, args, opts = {}) {
      const child = spawn('ip', ['netns', 'exec', name, cmd, ...args], opts);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    destroy() {
      if (gone) return;
      gone = true;
      live.delete(ns);
      for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
      // processes it started may have children of their own (mirrors): kill every pid still in the namespace
      const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean) ?? [];
      for (const p of pids) try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
      spawnSync('ip', ['netns', 'del', name]);
    },
  };
  live.add(ns);
  try {
    ns.exec('ip', ['link', 'set', 'lo', 'up']);
  } catch (e) {
    ns.destroy();
    throw e;
  }
  return ns;
}
