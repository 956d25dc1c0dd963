/**
 * A provider that cannot hold a desired record type: shapeForProvider refuses the plan (PlanRefusedError), and that
 * refusal keeps its own stable code PLAN_REFUSED end to end (the zone report, the audit event, the status rows),
 * never the generic DRIVER_FAILED of a provider fault.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Controller } from '../../src/controller/controller.ts';
import { reconcileAll } from '../../src/controller/reconcile.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { statusSnapshot } from '../../src/server/status-snapshot.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { FakeProbe, MemoryDriver, waitFor } from '../server/harness.ts';

/** An in-memory provider that takes only A and AAAA records (so the TXT ownership markers are refused). */
class AddressOnlyDriver extends MemoryDriver {
  override readonly capabilities = { ...new MemoryDriver('x').capabilities, types: ['A', 'AAAA'] as const };
}

describe('PlanRefusedError keeps its code PLAN_REFUSED', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('in the zone report of reconcileAll', async () => {
    const [r] = await reconcileAll({
      drivers: [new AddressOnlyDriver('addr-only')],
      zones: { 'example.com': [{ name: '_flotilla-a.example.com', type: 'TXT', ttl: 60, values: ['heritage=flotilla'] }] },
      ownerId: 'o',
      maxRemoveShare: 1,
    });
    assert.equal(r.ok, false);
    assert.equal(r.errorCode, 'PLAN_REFUSED');
    assert.match(r.error ?? '', /^addr-only: cannot hold TXT at _flotilla-a\.example\.com: the provider takes only A, AAAA records$/);
  });

  it('in the controller\'s audit event and status row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-refused-'));
    dirs.push(dir);
    const driver = new AddressOnlyDriver('memdns');
    const spec = fleetFixture({ alternateDomains: [], dnsProviders: [{ name: 'memdns', kind: 'local', settings: {} }], state: { kind: 'file', path: dir, endpoints: [] } });
    const controller = new Controller({ spec, store: new FileStateStore(dir), drivers: [driver], probe: new FakeProbe(), query: async () => ({ ok: true, values: [] }), verifyDeadlineMs: 500, resyncMs: 60_000 });
    const audits: AuditEvent[] = [];
    controller.on('audit', (e) => audits.push(e));
    try {
      await controller.start();
      const ev = await waitFor('an apply-error audit event', () => audits.find((e) => e.kind === 'apply-error'));
      assert.equal((ev.data as { code?: string }).code, 'PLAN_REFUSED');
      const row = statusSnapshot(controller, Date.now()).providers.find((p) => p.name === 'memdns');
      assert.equal(row?.lastErrorCode, 'PLAN_REFUSED');
      assert.match(row?.lastError ?? '', /cannot hold TXT/);
    } finally {
      await controller.stop();
    }
  });
});
