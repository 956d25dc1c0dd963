/**
 * Observe (one vantage's probe loops) and the inventory: only mirrors with a known address are probed, a changed
 * inventory re-targets the loops, and the result of a probe of the old address still in flight is dropped (it says
 * nothing about the host now behind the mirror). And the fast re-probe's pace: after a failed probe, fastInterval
 * after it ended; after a passed one, after it started. The probe is one the test steers; the loops and hysteresis
 * are real.
 */
import assert from 'node:assert/strict';
import { after, describe, it, mock } from 'node:test';
import { Observer } from '../../src/controller/observe.ts';
import type { Inventory } from '../../src/domain/inventory.ts';
import type { Probe, ProbeResult } from '../../src/probes/probe-result.ts';
import type { ProbeTarget } from '../../src/probes/probe-target.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { waitFor } from '../server/harness.ts';

/** Holds every probe of `held` until released; answers the others at once. Records each address probed. */
class HeldProbe implements Probe {
  readonly probed: string[] = [];
  held = new Set<string>();
  private readonly waiting: (() => void)[] = [];
  async run(t: ProbeTarget): Promise<ProbeResult> {
    this.probed.push(t.address);
    if (this.held.has(t.address)) await new Promise<void>((r) => this.waiting.push(r));
    return { mirror: t.mirror, ok: false, reason: `refused at ${t.address}`, latencyMs: 1, at: Date.now() };
  }
  get inFlight(): number {
    return this.waiting.length;
  }
  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

const inventory = (ipv4: string): Inventory => ({ updatedAt: 1, mirrors: { m1: { provider: 'local', ipv4, at: 1, source: 'pulumi' } } });

describe('observe: probe targets from the inventory', { timeout: 20_000 }, () => {
  const ac = new AbortController();
  const observers: Observer[] = [];
  after(() => {
    for (const o of observers) o.stop();
    ac.abort();
  });

  it('never probes a mirror without a known address; re-targets on a new inventory and drops the old address\'s result', async () => {
    const spec = fleetFixture({}, 2);
    delete spec.mirrors[1].ipv4; // m1: not provisioned until the inventory names its address
    const probe = new HeldProbe();
    const obs = new Observer(spec, { probes: { http: probe, tcp: probe, dns: probe }, now: Date.now, blind: () => false, signal: ac.signal });
    observers.push(obs);
    const results: ProbeResult[] = [];
    obs.on('probe', (r: ProbeResult) => results.push(r));
    obs.start();
    assert.deepEqual(obs.provisioned(), ['m0']);
    await waitFor('m0 probed twice', () => probe.probed.filter((a) => a === '127.0.0.11').length >= 2);
    assert.ok(!results.some((r) => r.mirror === 'm1'), 'm1 has no address: never probed');

    probe.held.add('127.0.0.81');
    obs.setInventory(inventory('127.0.0.81'));
    assert.ok(obs.has('m1'));
    await waitFor('a probe of m1 at its first address in flight', () => probe.inFlight > 0);
    obs.setInventory(inventory('127.0.0.82')); // replaced while the probe of .81 runs
    probe.release();
    await waitFor('m1 probed at its new address', () => results.some((r) => r.reason === 'refused at 127.0.0.82'));
    assert.ok(!results.some((r) => r.reason === 'refused at 127.0.0.81'), 'the result about the old address is dropped');
    assert.ok(!probe.probed.slice(probe.probed.indexOf('127.0.0.82')).includes('127.0.0.81'), 'the old address is not probed again');
  });
});

describe('observe: each mirror probed by its own kind of probe', { timeout: 20_000 }, () => {
  it('the stack\'s probe and a mirror\'s own (health.probe) are used, in the loops and in probeOnce', async () => {
    const ac = new AbortController();
    const spec = fleetFixture({}, 3);
    spec.mirrors[1].health = { probe: 'tcp' };
    spec.mirrors[2].health = { probe: 'dns' };
    const by: Record<string, Set<string>> = { http: new Set(), tcp: new Set(), dns: new Set() };
    const kind = (k: string): Probe => ({
      async run(t: ProbeTarget): Promise<ProbeResult> {
        by[k].add(t.mirror);
        return { mirror: t.mirror, ok: true, reason: 'ok', latencyMs: 1, at: Date.now() };
      },
    });
    const obs = new Observer(spec, { probes: { http: kind('http'), tcp: kind('tcp'), dns: kind('dns') }, now: Date.now, blind: () => false, signal: ac.signal });
    try {
      await obs.probeOnce();
      assert.deepEqual(Object.fromEntries(Object.entries(by).map(([k, v]) => [k, [...v]])), { http: ['m0'], tcp: ['m1'], dns: ['m2'] });
      for (const v of Object.values(by)) v.clear();
      obs.start();
      await waitFor('every mirror probed by its loop', () => by.http.size + by.tcp.size + by.dns.size === 3);
      assert.deepEqual(Object.fromEntries(Object.entries(by).map(([k, v]) => [k, [...v]])), { http: ['m0'], tcp: ['m1'], dns: ['m2'] });
    } finally {
      obs.stop();
      ac.abort();
    }
  });
});

/** Holds every probe until the test answers it; records the (test clock) time each one started. */
class SteeredProbe implements Probe {
  readonly starts: number[] = [];
  private answer: ((ok: boolean) => void) | undefined;
  constructor(private readonly clock: () => number) {}
  async run(t: ProbeTarget): Promise<ProbeResult> {
    const at = this.clock();
    this.starts.push(at);
    const ok = await new Promise<boolean>((r) => { this.answer = r; });
    return { mirror: t.mirror, ok, reason: ok ? 'ok' : 'timeout after 200ms', latencyMs: this.clock() - at, at };
  }
  reply(ok: boolean): void {
    const a = this.answer;
    this.answer = undefined;
    assert.ok(a, 'a probe is in flight');
    a(ok);
  }
}

/** Lets settled promises run their continuations (setImmediate is not among the mocked timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('observe: fast re-probe pace', () => {
  it('re-probes fastInterval after a failed probe ENDED (a timeout is not followed at once), after a passed one STARTED', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    let t = 0;
    const clock = () => t;
    const ac = new AbortController();
    const base = fleetFixture().health;
    const spec = fleetFixture({ health: { ...base, intervalMs: 10_000, fastIntervalMs: 200, jitter: 0, rise: 3 } }, 1);
    const probe = new SteeredProbe(clock);
    const obs = new Observer(spec, { probes: { http: probe, tcp: probe, dns: probe }, now: clock, blind: () => false, signal: ac.signal });
    try {
      obs.start();
      mock.timers.tick(0);
      await settle();
      assert.deepEqual(probe.starts, [0], 'the first slot probes at once');

      // the probe fails after 1,000 ms (a timeout): the fast re-probe comes 200 ms after that, not at once
      t = 1000;
      probe.reply(false);
      await settle();
      mock.timers.tick(199);
      await settle();
      assert.deepEqual(probe.starts, [0], 'not before fastInterval after the failed probe ended');
      t = 1200;
      mock.timers.tick(1);
      await settle();
      assert.deepEqual(probe.starts, [0, 1200]);
      assert.equal(obs.health.m0.failureStreak, 1);

      // that one passes after 800 ms: its fastInterval from its start is past, so the next probe runs at once
      t = 2000;
      probe.reply(true);
      await settle();
      mock.timers.tick(0);
      await settle();
      assert.deepEqual(probe.starts, [0, 1200, 2000], 'at once after a passed probe that took longer than fastInterval');

      // a quick pass (10 ms): fastInterval after its START (2,200), not after its end (2,210)
      t = 2010;
      probe.reply(true);
      await settle();
      mock.timers.tick(189);
      await settle();
      assert.deepEqual(probe.starts, [0, 1200, 2000]);
      t = 2200;
      mock.timers.tick(1);
      await settle();
      assert.deepEqual(probe.starts, [0, 1200, 2000, 2200]);
      t = 2210;
      probe.reply(true);
      await settle();
      assert.equal(obs.health.m0.state, 'up', 'rise 3 reached');
    } finally {
      obs.stop();
      ac.abort();
      mock.timers.reset();
    }
  });
});
