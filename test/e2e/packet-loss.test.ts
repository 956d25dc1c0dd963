/**
 * Packet loss must not flip a mirror; a killed mirror must still leave fast. Real parts in a network namespace the
 * test creates (test/support/netns-fleet.ts: three mirror processes, the embedded DNS server, the Controller at
 * interval 250 ms, timeout 200 ms, fall 3, rise 2), and real lost packets: iptables in that namespace drops request
 * packets to mirror a. The loss is made certain rather than random (`statistic --mode nth`), so a short run proves
 * it: every second request packet to a is dropped, so every other probe certainly loses a packet, which a probe
 * with a single attempt pays with its whole timeout (a retransmission takes ≥ 200 ms on Linux). Random 10% loss over
 * ten minutes is measured by `npm run bench -- --only flaky` (bench/README.md).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createNetNs, netnsUnavailable, type NetNs } from '../support/netns.ts';
import { REPO } from '../support/run-cli.ts';

interface ProbeEvent { type: 'probe'; mirror: string; ok: boolean; reason: string; attempts: number; at: number }
interface FlipEvent { type: 'flip'; mirror: string; state: string; at: number }
type Msg = ProbeEvent | FlipEvent | { type: 'ready'; ports: number[]; dns: string } | { type: 'gone'; mirror: string; killedAt: number; goneMs: number; flipMs?: number } | { type: 'failed'; error: string };

const unavailable = netnsUnavailable();

describe('packet loss in a network namespace', { skip: unavailable, timeout: 120_000 }, () => {
  let ns: NetNs;
  let child: ChildProcess;
  let ports: number[] = [];
  const events: Msg[] = [];
  const waiters = new Set<() => void>();

  /** Resolves with the first event (from index `from` on) that `pred` accepts; fails after `timeoutMs`. */
  function waitFor<T extends Msg>(pred: (m: Msg) => m is T, what: string, timeoutMs: number, from = 0): Promise<T> {
    return new Promise((ok, fail) => {
      const check = () => {
        const hit = events.slice(from).find(pred);
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        ok(hit);
      };
      const timer = setTimeout(() => { waiters.delete(check); fail(new Error(`no ${what} within ${timeoutMs} ms`)); }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  before(async () => {
    ns = createNetNs('flt-loss');
    child = ns.spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/support/netns-fleet.ts'), JSON.stringify({ contentDir: join(REPO, 'site'), intervalMs: 250, timeoutMs: 200, rise: 2, fall: 3, jitter: 0.1 })], {
      cwd: REPO,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: Msg) => {
      events.push(m);
      for (const w of [...waiters]) w();
    });
    const ready = await waitFor((m): m is Extract<Msg, { type: 'ready' }> => m.type === 'ready' || m.type === 'failed', 'ready fleet', 30_000);
    if (ready.type !== 'ready') assert.fail(`fleet failed: ${(ready as unknown as { error: string }).error}`);
    ports = ready.ports;
    for (const name of ['a', 'b', 'c']) await waitFor((m): m is FlipEvent => m.type === 'flip' && m.mirror === name && m.state === 'up', `${name} up`, 20_000);
  });

  after(() => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    ns?.destroy();
  });

  it('a mirror losing every second request packet stays in, and its probes do not fail: a companion attempt answers', async () => {
    // Of the request (PSH) packets to a, every second one is dropped. Responses and SYNs pass.
    const match = ['-p', 'tcp', '-d', '127.0.0.11', '--dport', String(ports[0]), '--tcp-flags', 'PSH', 'PSH'];
    ns.iptables('-A', 'INPUT', ...match, '-m', 'statistic', '--mode', 'nth', '--every', '2', '--packet', '0', '-j', 'DROP');
    const from = events.length;
    const start = Date.now();
    // 24 probes of a: 6 s at 250 ms
    await waitFor((m): m is ProbeEvent => m.type === 'probe' && m.mirror === 'a' && events.slice(from).filter((e) => e.type === 'probe' && e.mirror === 'a' && e.at >= start).length >= 24, '24 probes of a', 30_000, from);
    const dropped = Number(/^\s*(\d+)\s/m.exec(ns.exec('iptables', ['-L', 'INPUT', '-v', '-x', '-n']).split('\n').filter((l) => l.includes('DROP')).join('\n'))?.[1] ?? 0);
    const probes = events.slice(from).filter((e): e is ProbeEvent => e.type === 'probe' && e.mirror === 'a' && e.at >= start);
    const downs = events.slice(from).filter((e) => e.type === 'flip' && e.mirror === 'a' && e.state === 'down');
    const hedged = probes.filter((p) => p.attempts > 1).length;
    const failed = probes.filter((p) => !p.ok);
    assert.deepEqual(downs, [], `a was taken out; probes: ${probes.map((p) => `${p.ok ? 'ok' : p.reason}/${p.attempts}`).join(' ')}`);
    assert.ok(dropped >= probes.length / 3, `the kernel dropped only ${dropped} packets for ${probes.length} probes`);
    // a single attempt would fail every other probe; allow one or two for a loaded machine's event loop
    assert.ok(failed.length <= 2, `${failed.length} of ${probes.length} probes failed: ${probes.map((p) => `${p.ok ? 'ok' : p.reason}/${p.attempts}`).join(' ')}`);
    assert.ok(hedged >= probes.length / 3, `only ${hedged} of ${probes.length} probes needed a companion: was the loss real?`);
  });

  it('a killed mirror is still gone from DNS in under a second, under the same loss: refused counts at once', async () => {
    const from = events.length;
    child.send({ type: 'kill', mirror: 'a' });
    const gone = await waitFor((m): m is Extract<Msg, { type: 'gone' }> => m.type === 'gone', 'gone report', 15_000, from);
    assert.ok(gone.flipMs !== undefined, 'a never flipped down');
    assert.ok(gone.goneMs < 1000, `kill → gone took ${Math.round(gone.goneMs)} ms`);
    const after = events.slice(from).filter((e): e is ProbeEvent => e.type === 'probe' && e.mirror === 'a' && e.at >= gone.killedAt);
    assert.equal(after[0]?.reason, 'refused', 'a killed mirror is refused at once, not timed out');
  });

  it('the first failure of a serving mirror brings fast re-probes: fall 3 is reached within ~2 × fastInterval, not 2 intervals', async () => {
    // b has no loss: its failure streak is 0 when it is killed
    const from = events.length;
    child.send({ type: 'kill', mirror: 'b' });
    const gone = await waitFor((m): m is Extract<Msg, { type: 'gone' }> => m.type === 'gone' && m.mirror === 'b', 'gone report', 15_000, from);
    const after = events.slice(from).filter((e): e is ProbeEvent => e.type === 'probe' && e.mirror === 'b' && e.at >= gone.killedAt);
    const down = events.slice(from).find((e): e is FlipEvent => e.type === 'flip' && e.mirror === 'b' && e.state === 'down');
    assert.ok(down, 'b never flipped down');
    assert.ok(gone.goneMs < 1000, `kill → gone took ${Math.round(gone.goneMs)} ms`);
    // at interval 250 ms the third failure would come ≥ 475 ms after the first; fast re-probes are 50 ms apart
    assert.ok(down.at - after[0].at < 400, `first probe after the kill → down took ${Math.round(down.at - after[0].at)} ms: no fast re-probe? probes at +${after.map((p) => p.at - after[0].at).join(', +')} ms`);
  });
});
