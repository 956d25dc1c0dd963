/**
 * A real packet filter on one path: an iptables rule in the host's OUTPUT chain that drops TCP from one source
 * address to one address and port (loopback only; the test's own addresses and ports). Each rule carries a comment
 * naming this process, is removed by its exact spec (`iptables -D` with the same arguments), and every rule still
 * held is removed at process exit too, so a failing or interrupted test never leaves one behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { ensurePackages } from './ensure-packages.ts';

export interface DropRule {
  /** The rule's arguments after the chain (what -A added and -D removes). */
  readonly spec: readonly string[];
  /** True while the rule is in the kernel's table (iptables -C). */
  present(): boolean;
  /** Deletes exactly this rule; idempotent. Throws when iptables refuses to delete a rule that is present. */
  remove(): void;
}

const held = new Set<DropRule>();
let hooked = false;

/** Why host iptables rules cannot be used here, or undefined when they can (installs iptables when missing). */
export function iptablesUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'iptables needs Linux';
  if (process.getuid?.() !== 0) return 'iptables rules need root';
  try {
    ensurePackages({ iptables: 'iptables' });
  } catch (e) {
    return `iptables is missing and cannot be installed: ${(e as Error).message}`;
  }
  const r = spawnSync('iptables', ['-w', '-S', 'OUTPUT'], { encoding: 'utf8' });
  if (r.status !== 0) return `iptables cannot read the OUTPUT chain: ${(r.stderr || r.error?.message || '').trim()}`;
  return undefined;
}

/** Drops every TCP packet from `from` to `to`:`port` (the path of one vantage to one mirror). */
export function dropPath(o: { from: string; to: string; port: number }): DropRule {
  for (const a of [o.from, o.to]) if (!a.startsWith('127.')) throw new Error(`dropPath is for loopback addresses only, not ${a}`);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const r of held) try { r.remove(); } catch { /* reported by iptables-leak checks */ } });
  }
  const spec = ['-s', `${o.from}/32`, '-d', `${o.to}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', String(o.port), '-m', 'comment', '--comment', `flotilla-test-${process.pid}`, '-j', 'DROP'];
  const present = () => spawnSync('iptables', ['-w', '-C', 'OUTPUT', ...spec], { stdio: 'ignore' }).status === 0;
  const rule: DropRule = {
    spec,
    present,
    remove() {
      // -D removes one copy per call; a rule added once is deleted once, and never any other rule
      while (present()) execFileSync('iptables', ['-w', '-D', 'OUTPUT', ...spec], { stdio: 'pipe' });
      held.delete(rule);
    },
  };
  // held before it is added: an exit between the two still removes it
  held.add(rule);
  execFileSync('iptables', ['-w', '-I', 'OUTPUT', ...spec], { stdio: 'pipe' });
  return rule;
}

/** Rules this process added and still holds (for a test asserting that none leaked). */
export function heldRules(): number {
  return held.size;
}
