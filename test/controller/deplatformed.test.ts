/**
 * A deplatformed mirror through the real Controller (probe results from a probe the test steers, in-memory DNS,
 * real FileStateStore): it leaves the answer like a down mirror, but the audit kind, the alert and the status say
 * "deplatformed" (another runbook than a crash). The probe's own signs are tested on real servers in
 * test/probes/deplatform-signals.test.ts; the hysteresis rule in health-tracker below.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ALERT_KINDS, severityOf } from '../../src/controller/alerts.ts';
import { Controller } from '../../src/controller/controller.ts';
import { hysteresisFor, observe } from '../../src/controller/health-tracker.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { unknownHealth } from '../../src/domain/health.ts';
import { statusSnapshot } from '../../src/server/status-snapshot.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { SignProbe } from '../support/sign-probe.ts';
import { MemoryDriver, waitFor } from '../server/harness.ts';

describe('deplatformed mirror in the controller', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-deplatformed-'));
  let controller: Controller | undefined;
  after(async () => {
    await controller?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves the answer like down; audited and alerted as kind "deplatformed"; shown in status', async () => {
    const driver = new MemoryDriver('memdns');
    const spec = fleetFixture({ alternateDomains: [], dnsProviders: [{ name: 'memdns', kind: 'local', settings: {} }], state: { kind: 'file', path: dir, endpoints: [] } });
    const probe = new SignProbe();
    const store = new FileStateStore(dir);
    controller = new Controller({ spec, store, drivers: [driver], probe, query: async (q) => ({ ok: true, values: driver.answer(q.name, q.type) }), verifyDeadlineMs: 2000, resyncMs: 60_000, overridePollMs: 100 });
    const audits: AuditEvent[] = [];
    controller.on('audit', (e) => audits.push(e));
    await controller.start();
    const served = () => [...driver.answer(spec.domain, 'A')].sort();
    await waitFor('all three served', () => served().length === 3);
    probe.signs.set('m1', 'HTTP 451 Unavailable For Legal Reasons');
    await waitFor('m1 out of the answer', () => served().join(',') === '127.0.0.11,127.0.0.13');
    const ev = await waitFor('a deplatformed audit event', () => audits.find((e) => e.kind === 'deplatformed'));
    assert.equal(ev.data?.mirror, 'm1');
    assert.match(ev.message, /m1 is deplatformed: HTTP 451/);
    assert.ok(!audits.some((e) => e.kind === 'flip' && e.data?.mirror === 'm1' && e.data?.state === 'down'), 'not reported as a plain flip');
    assert.ok((ALERT_KINDS as readonly string[]).includes('deplatformed'));
    assert.equal(severityOf(ev), 'critical');
    const row = statusSnapshot(controller, Date.now()).mirrors.find((m) => m.name === 'm1')!;
    assert.equal(row.state, 'down');
    assert.equal(row.deplatformed, 'HTTP 451 Unavailable For Legal Reasons');
    // persisted for `flotilla status` (which reads the store)
    await waitFor('state saved with the sign', async () => (await store.load()).health.m1?.deplatformed === 'HTTP 451 Unavailable For Legal Reasons');
  });
});

describe('health tracker: the deplatformed sign', () => {
  const h = hysteresisFor({ rise: 2, fall: 2, intervalMs: 100 });
  it('is carried through later failures without a sign and cleared by a success', () => {
    let cur = unknownHealth();
    cur = observe(cur, { ok: false, reason: 'deplatformed: x', deplatformed: 'x', latencyMs: 1, at: 1 }, h).next;
    cur = observe(cur, { ok: false, reason: 'refused', latencyMs: 1, at: 2 }, h).next;
    assert.equal(cur.state, 'down');
    assert.equal(cur.deplatformed, 'x');
    cur = observe(cur, { ok: true, reason: 'ok', latencyMs: 1, at: 3 }, h).next;
    assert.equal(cur.deplatformed, undefined);
  });
});
