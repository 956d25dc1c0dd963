/**
 * The Controller with a fake probe and an in-memory DNS provider (real FileStateStore): store faults, fail open,
 * foreign records at published names, and the start-up hold. Real processes are in test/e2e and test/cli.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { Controller } from '../../src/controller/controller.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import type { State } from '../../src/domain/state.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { FakeProbe, MemoryDriver, waitFor } from '../server/harness.ts';

/** A FileStateStore whose writes (and, when asked, reads) throw while `broken` is set. */
class BreakableStore extends FileStateStore {
  broken = false;
  /** While set, writes wait for it (an etcd that was SIGSTOPped, a stalled disk); resolving it lets them through. */
  hang: Promise<void> | undefined;
  readsToo = false;
  saves = 0;
  override async save(next: State, expected: number): Promise<boolean> {
    await this.hang;
    if (this.broken) throw new Error('EROFS: read-only file system, open state.json');
    this.saves++;
    return super.save(next, expected);
  }
  override async load(): Promise<State> {
    if (this.broken && this.readsToo) throw new Error('EIO: i/o error, read state.json');
    return super.load();
  }
  override async append(e: AuditEvent): Promise<void> {
    await this.hang;
    if (this.broken) throw new Error('EROFS: read-only file system, open audit.log');
    return super.append(e);
  }
}

interface Rig {
  controller: Controller;
  store: BreakableStore;
  probe: FakeProbe;
  driver: MemoryDriver;
  spec: FleetSpec;
  audits: AuditEvent[];
  alerts: AuditEvent[];
  served: () => string[];
}

const rigs: { c: Controller; dir: string }[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.c.stop().catch(() => undefined);
    // a save in flight when stop() returned may still create a file (see test/server/harness.ts): retry the removal
    try {
      rmSync(r.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    } catch {
      // still being written into under load: removed at exit instead (npm test also removes its whole TMPDIR)
      process.once('exit', () => rmSync(r.dir, { recursive: true, force: true }));
    }
  }
});

async function rig(o: { seed?: (s: State) => void; driver?: MemoryDriver; probe?: FakeProbe; start?: boolean; verifyDeadlineMs?: number; stuck?: () => boolean } = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-controller-'));
  const driver = o.driver ?? new MemoryDriver('memdns');
  const spec = fleetFixture({ alternateDomains: [], dnsProviders: [{ name: 'memdns', kind: 'local', settings: {} }], state: { kind: 'file', path: dir, endpoints: [] } });
  const store = new BreakableStore(dir);
  if (o.seed) await updateState(store, o.seed);
  const probe = o.probe ?? new FakeProbe();
  const controller = new Controller({ spec, store, drivers: [driver], probe, query: async (q) => (o.stuck?.() ? { ok: true, values: ['127.0.0.1'] } : { ok: true, values: driver.answer(q.name, q.type) }), verifyDeadlineMs: o.verifyDeadlineMs ?? 2000, resyncMs: 60_000, overridePollMs: 100 });
  rigs.push({ c: controller, dir });
  const audits: AuditEvent[] = [];
  const alerts: AuditEvent[] = [];
  controller.on('audit', (e) => audits.push(e));
  controller.on('alert', (e) => alerts.push(e));
  if (o.start !== false) await controller.start();
  return { controller, store, probe, driver, spec, audits, alerts, served: () => [...driver.answer(spec.domain, 'A')].sort() };
}

const ALL = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

describe('Controller', { timeout: 60_000 }, () => {
  it('a store that throws never stops failover: alerted once, saved again when it heals', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const r = await rig();
      await waitFor('all three published', () => r.served().join(',') === ALL.join(','));
      r.store.broken = true;
      r.store.readsToo = true;
      r.probe.fail('m0');
      await waitFor('m0 removed with the store down', () => r.served().join(',') === ALL.slice(1).join(','));
      r.probe.fail('m1');
      await waitFor('m1 removed with the store down', () => r.served().join(',') === ALL.slice(2).join(','));
      await waitFor('a save attempted and failed twice', () => r.controller.storeDegraded);
      assert.equal(r.alerts.filter((e) => e.kind === 'store-error').length, 1, 'alerted once per outage');
      assert.match(r.alerts[0].message, /EROFS|EIO|i\/o error|read-only/i);
      const savesBefore = r.store.saves;
      r.store.broken = false;
      r.store.readsToo = false;
      await waitFor('the save retried and succeeded', () => r.store.saves > savesBefore && !r.controller.storeDegraded, 10_000);
      const st = await r.store.load();
      assert.equal(st.health.m0.state, 'down');
      assert.equal(st.health.m1.state, 'down');
      // audited just after storeDegraded clears (the save's own await): wait for it, do not race it
      await waitFor('the "saved again" audit event', () => r.audits.some((e) => e.kind === 'store' && /saved again/.test(e.message)));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a store that hangs (etcd paused) does not hold failover back: the write goes out while the audit waits', async () => {
    const r = await rig();
    await waitFor('all three published', () => r.served().join(',') === ALL.join(','));
    let release = () => {};
    r.store.hang = new Promise<void>((res) => (release = res));
    try {
      r.probe.fail('m0');
      await waitFor('m0 removed while every store write hangs', () => r.served().join(',') === ALL.slice(1).join(','));
    } finally {
      release();
    }
    await waitFor('the decision audited once the store answers', () => r.audits.some((e) => e.kind === 'decision' && /serve m1, m2/.test(e.message)));
  });

  it('a store failing at start does not stop the controller from publishing', async () => {
    const r = await rig({ start: false });
    r.store.broken = true;
    await r.controller.start();
    await waitFor('all three published', () => r.served().join(',') === ALL.join(','));
    r.probe.fail('m2');
    await waitFor('m2 removed', () => r.served().join(',') === ALL.slice(0, 2).join(','));
    assert.equal(r.alerts.filter((e) => e.kind === 'store-error').length, 1);
  });

  it('all mirrors failing together: fail open is audited at once, keeps the set served before the outage, degraded', async () => {
    const r = await rig();
    await waitFor('all three published', () => r.served().join(',') === ALL.join(','));
    await waitFor('the decision settled', () => r.controller.lastGood.length === 3);
    for (const m of ['m0', 'm1', 'm2']) r.probe.fail(m);
    await waitFor('fail open audited (resync is a minute away)', () => r.audits.some((e) => e.kind === 'fail-open'));
    const d = r.controller.desired();
    assert.equal(d.failOpen, true);
    assert.equal(d.degraded, true);
    assert.deepEqual(d.serving, ['m0', 'm1', 'm2'], 'the set that served before the outage, not the mirror detected last');
    await waitFor('all three served again', () => r.served().join(',') === ALL.join(','));
    assert.equal(r.audits.filter((e) => e.kind === 'fail-open').length, 1);
  });

  it('fail open after a settled decision keeps that decision, and is audited when the last mirror standing dies', async () => {
    const r = await rig();
    await waitFor('all three published', () => r.served().join(',') === ALL.join(','));
    r.probe.fail('m0');
    r.probe.fail('m1');
    await waitFor('only m2 served', () => r.served().join(',') === ALL[2]);
    await waitFor('the decision settled', () => r.controller.lastGood.join(',') === 'm2');
    r.probe.fail('m2');
    await waitFor('fail open audited', () => r.audits.some((e) => e.kind === 'fail-open'));
    assert.deepEqual(r.controller.desired().serving, ['m2']);
    assert.equal(r.served().join(','), ALL[2]);
  });

  it('a foreign RRset at a published name is reported once, never awaited by verification', async () => {
    const driver = new MemoryDriver('memdns');
    driver.zones.set('example.test', new Map([['example.test/A', { name: 'example.test', type: 'A', ttl: 300, values: ['192.0.2.1'] }]]));
    const r = await rig({ driver });
    const outcome = await waitFor('a verified outcome', () => r.controller.lastOutcome?.verify.length ? r.controller.lastOutcome : undefined);
    assert.ok(outcome.verify.every((v) => v.converged), JSON.stringify(outcome.verify));
    for (let i = 0; i < 3; i++) await r.controller.requestReconcile('resync');
    r.probe.fail('m0');
    await waitFor('the decision without m0 verified', () => r.audits.some((e) => e.kind === 'verify' && /answer m1, m2/.test(e.message)));
    const conflicts = r.audits.filter((e) => e.kind === 'conflict');
    assert.equal(conflicts.length, 1, conflicts.map((e) => e.message).join('\n'));
    assert.match(conflicts[0].message, /example\.test\/A/);
    assert.deepEqual(r.controller.providerStatus.memdns.conflicts?.length, 1);
    assert.deepEqual(driver.answer('example.test', 'A'), ['192.0.2.1'], 'the foreign record is untouched');
    assert.ok(r.audits.every((e) => e.kind !== 'verify' || !/not converged/.test(e.message)));
  });

  it('a server that never converges does not hold up the next decision: its verification is superseded', async () => {
    let stuck = false;
    const r = await rig({ verifyDeadlineMs: 60_000, stuck: () => stuck });
    await waitFor('all three published', () => r.served().join(',') === ALL.join(','));
    await waitFor('verified', () => r.audits.some((e) => e.kind === 'verify'));
    stuck = true;
    r.probe.fail('m0');
    await waitFor('m0 removed', () => r.served().join(',') === ALL.slice(1).join(','));
    r.probe.fail('m1');
    // with verification inside the worker this waits for the 60 s deadline of the first decision
    await waitFor('m1 removed while the first verification still waits', () => r.served().join(',') === ALL[2]);
    stuck = false;
    await waitFor('the latest decision verified', () => r.audits.some((e) => e.kind === 'verify' && /answer m2,/.test(e.message)));
    assert.ok(!r.audits.some((e) => e.kind === 'verify' && /not converged/.test(e.message)), 'a superseded verification is not reported as a failure');
  });

  it('after a restart, a mirror saved as up is not published again before a fresh probe says so', async () => {
    const probe = new FakeProbe();
    probe.fail('m0');
    const driver = new MemoryDriver('memdns');
    const applied: string[][] = [];
    const apply = driver.applyChanges.bind(driver);
    driver.applyChanges = async (zone, changes) => {
      for (const c of changes) if (c.action !== 'delete' && c.after.type === 'A') applied.push(c.after.values);
      return apply(zone, changes);
    };
    const up = { state: 'up' as const, successStreak: 5, failureStreak: 0, recentFlips: [], lastProbeAt: Date.now() - 1000 };
    const r = await rig({ probe, driver, seed: (s) => { s.health = { m0: { ...up }, m1: { ...up }, m2: { ...up } }; s.lastGood = ['m0', 'm1', 'm2']; } });
    await waitFor('m1 and m2 published', () => r.served().join(',') === ALL.slice(1).join(','));
    assert.ok(applied.every((v) => !v.includes(ALL[0])), `m0 was published: ${JSON.stringify(applied)}`);
    assert.equal(r.controller.health.m0.state, 'down');
  });
});
