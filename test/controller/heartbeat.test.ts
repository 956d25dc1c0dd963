/**
 * The controller's heartbeat (State.controller): a running controller's saves carry it, so `flotilla drain` can say
 * who will act on an override; stop() clears it. Real Controller, real FileStateStore, in-memory DNS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Controller } from '../../src/controller/controller.ts';
import { controllerRunning } from '../../src/domain/state.ts';
import type { Probe, ProbeResult } from '../../src/probes/probe-result.ts';
import type { ProbeTarget } from '../../src/probes/probe-target.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { MemoryDriver, waitFor } from '../server/harness.ts';

class UpProbe implements Probe {
  async run(t: ProbeTarget): Promise<ProbeResult> {
    return { mirror: t.mirror, ok: true, reason: 'ok', latencyMs: 1, at: Date.now() };
  }
}

describe('controller heartbeat in the saved state', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-heartbeat-'));
  let controller: Controller | undefined;
  after(async () => {
    await controller?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is saved while the controller runs and cleared when it stops', async () => {
    const driver = new MemoryDriver('memdns');
    const spec = fleetFixture({ alternateDomains: [], dnsProviders: [{ name: 'memdns', kind: 'local', settings: {} }], state: { kind: 'file', path: dir, endpoints: [] } });
    const store = new FileStateStore(dir);
    controller = new Controller({ spec, store, drivers: [driver], probe: new UpProbe(), query: async (q) => ({ ok: true, values: driver.answer(q.name, q.type) }), verifyDeadlineMs: 2000, resyncMs: 60_000, overridePollMs: 100 });
    await controller.start();
    const saved = await waitFor('a save with the heartbeat', async () => (await store.load()).controller);
    assert.equal(saved.pid, process.pid);
    assert.equal(saved.host, hostname());
    assert.ok(controllerRunning(await store.load(), Date.now()));
    await controller.stop();
    controller = undefined;
    const st = await store.load();
    assert.equal(st.controller, undefined, 'a stopped controller leaves no heartbeat');
    assert.ok(!controllerRunning(st, Date.now()));
  });
});
