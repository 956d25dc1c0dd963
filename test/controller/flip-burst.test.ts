/**
 * Many flips at once (every mirror rising at start, or a probe loop whose results arrive in bunches) are decided on
 * together: one decision (O(mirrors)) per event-loop turn of flips, not several per flip. At 5,000 mirrors three
 * decisions per flip starved the probe loop (bench/probe-check.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Controller } from '../../src/controller/controller.ts';
import type { Probe, ProbeResult } from '../../src/probes/probe-result.ts';
import type { ProbeTarget } from '../../src/probes/probe-target.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { waitFor } from '../server/harness.ts';

/** Holds every probe until `open()`; then they all pass in the same turn (as results bunch up on a busy loop). */
class GateProbe implements Probe {
  private held: (() => void)[] = [];
  private opened = false;
  get waiting(): number {
    return this.held.length;
  }
  open(): void {
    this.opened = true;
    for (const go of this.held.splice(0)) go();
  }
  async run(target: ProbeTarget): Promise<ProbeResult> {
    const at = Date.now();
    if (!this.opened) await new Promise<void>((go) => this.held.push(go));
    return { mirror: target.mirror, ok: true, reason: 'ok', latencyMs: 1, at };
  }
}

describe('Controller flip burst', { timeout: 30_000 }, () => {
  it('decides once for the flips of one turn, not once (or three times) per flip', async () => {
    const n = 200;
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-flip-burst-'));
    const spec = fleetFixture({ alternateDomains: [], dnsProviders: [], state: { kind: 'file', path: dir, endpoints: [] } }, n);
    spec.health = { ...spec.health, rise: 1, intervalMs: 200, jitter: 0 };
    const probe = new GateProbe();
    const controller = new Controller({ spec, store: new FileStateStore(dir), drivers: [], probe, query: async () => ({ ok: true, values: [] }), resyncMs: 60_000, overridePollMs: 60_000 });
    let decisions = 0;
    const decision = controller.decision.bind(controller);
    controller.decision = () => {
      decisions++;
      return decision();
    };
    let flips = 0;
    controller.on('flip', () => flips++);
    try {
      await controller.start();
      await waitFor('every mirror probed once and held', () => probe.waiting === n);
      decisions = 0;
      probe.open(); // n results in one turn: n flips unknown → up (rise 1)
      await waitFor('every mirror up', () => Object.values(controller.health).filter((h) => h.state === 'up').length === n);
      await new Promise((r) => setImmediate(r));
      assert.equal(flips, n);
      // one decision for the burst, plus the few of the reconcile it asks for; three per flip was 3 × n
      assert.ok(decisions <= 10, `${decisions} decisions for ${n} flips in one turn`);
    } finally {
      await controller.stop();
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    }
  });
});
