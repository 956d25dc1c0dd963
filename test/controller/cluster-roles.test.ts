/**
 * The Controller's roles among several replicas, with a scripted Cluster (real FileStateStore, in-memory DNS): a
 * follower observes and writes nothing; a leader writes only through the fence; other vantages' verdicts count by
 * quorum; too few live vantages or a lost etcd is fail static; only the leader saves state, and never its own view
 * over another's; shared-state audit entries (deplatformed, inventory) are written once, by the leader, while each
 * vantage's flips stay its own. The same roles on real etcd processes are in test/e2e/cluster.test.ts.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { Controller } from '../../src/controller/controller.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { unknownHealth, type Health, type MirrorState } from '../../src/domain/health.ts';
import type { Cluster, Fence, LeaderInfo, VantageRecord } from '../../src/state/cluster.ts';
import { FencedError } from '../../src/state/fenced-error.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { SignProbe } from '../support/sign-probe.ts';
import { FakeProbe, MemoryDriver, waitFor } from '../server/harness.ts';

/** A Cluster whose roles and other vantages the test sets. */
class ScriptedCluster extends EventEmitter implements Cluster {
  readonly kind = 'etcd';
  leading = false;
  fenceHolds = true;
  fences = 0;
  others: VantageRecord[] = [];
  trouble: string | undefined;
  published: Health[] = [];
  constructor(readonly vantage: string) { super(); }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(h: Health): Promise<void> { this.published.push(structuredClone(h)); }
  vantages(): VantageRecord[] { return this.others; }
  isLeader(): boolean { return this.leading; }
  leader(): LeaderInfo | undefined { return this.leading ? { vantage: this.vantage, since: 1 } : { vantage: 'other', since: 1 }; }
  async fence(): Promise<void> {
    this.fences++;
    if (!this.fenceHolds) throw new FencedError('write', 'the leader key no longer holds revision 7');
  }
  currentFence(): Fence | undefined { return this.leading ? { key: '/x/election/leader/1', createRevision: 7 } : undefined; }
  problem(): string | undefined { return this.trouble; }
  set(change: Partial<Pick<ScriptedCluster, 'leading' | 'fenceHolds' | 'others' | 'trouble'>>, event: 'change' | 'elected' = 'change'): void {
    Object.assign(this, change);
    this.emit(event);
  }
}

/** Replicas in one process: each publishes to a shared board and hears the others' verdicts (what etcd carries). */
class BoardCluster extends EventEmitter implements Cluster {
  readonly kind = 'etcd';
  constructor(readonly vantage: string, private readonly board: Map<string, BoardCluster>, private readonly leading: boolean, public health: Health = {}) {
    super();
    board.set(vantage, this);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(h: Health): Promise<void> {
    this.health = structuredClone(h);
    for (const c of this.board.values()) if (c !== this) c.emit('change');
  }
  vantages(): VantageRecord[] { return [...this.board.values()].map((c) => ({ name: c.vantage, live: true, at: Date.now(), health: c.health })); }
  isLeader(): boolean { return this.leading; }
  leader(): LeaderInfo | undefined { return { vantage: [...this.board.values()].find((c) => c.leading)!.vantage, since: 1 }; }
  async fence(): Promise<void> { if (!this.leading) throw new FencedError('write', 'not the leader'); }
  currentFence(): Fence | undefined { return this.leading ? { key: '/x/election/leader/1', createRevision: 7 } : undefined; }
  problem(): string | undefined { return undefined; }
}

const verdicts = (states: Record<string, MirrorState>): Health => Object.fromEntries(Object.entries(states).map(([m, state]) => [m, { ...unknownHealth(), state }]));
const other = (name: string, states: Record<string, MirrorState>, live = true): VantageRecord => ({ name, live, at: Date.now(), health: verdicts(states) });
const ALL = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

const made: { c: Controller; dir: string }[] = [];
afterEach(async () => {
  const done = made.splice(0);
  // every controller first: several may share one state directory and would write into it while it is removed
  await Promise.all(done.map((r) => r.c.stop().catch(() => undefined)));
  for (const dir of new Set(done.map((r) => r.dir))) rmSync(dir, { recursive: true, force: true });
});

async function rig(health: Partial<ReturnType<typeof fleetFixture>['health']> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-roles-'));
  const driver = new MemoryDriver('memdns');
  const spec = fleetFixture({ alternateDomains: [], dnsProviders: [{ name: 'memdns', kind: 'local', settings: {} }], state: { kind: 'file', path: dir, endpoints: [] } });
  spec.health = { ...spec.health, ...health };
  const store = new FileStateStore(dir);
  const probe = new FakeProbe();
  const cluster = new ScriptedCluster('me');
  const controller = new Controller({ spec, store, drivers: [driver], probe, cluster, query: async (q) => ({ ok: true, values: driver.answer(q.name, q.type) }), verifyDeadlineMs: 2000, resyncMs: 60_000, overridePollMs: 100 });
  made.push({ c: controller, dir });
  const audits: AuditEvent[] = [];
  controller.on('audit', (e) => audits.push(e));
  await controller.start();
  return { controller, driver, spec, store, probe, cluster, audits, served: () => [...driver.answer(spec.domain, 'A')].sort() };
}

describe('Controller among several replicas', { timeout: 60_000 }, () => {
  it('a follower observes and publishes its verdicts but writes no DNS and saves no state', async () => {
    const r = await rig();
    r.probe.fail('m0');
    await waitFor('m0 down in its own view, the others up', () => r.controller.health.m0?.state === 'down' && r.controller.health.m1?.state === 'up' && r.controller.health.m2?.state === 'up');
    await waitFor('its verdict published', () => r.cluster.published.some((h) => h.m0?.state === 'down'));
    const out = await r.controller.requestReconcile('test');
    assert.match(out.skipped ?? '', /follower/);
    assert.equal(r.driver.zones.size, 0, 'nothing written');
    await r.controller.persist();
    assert.equal((await r.store.load()).version, 0, 'nothing saved');
  });

  it('the leader writes only through the fence; a fence that no longer holds stops every write', async () => {
    const r = await rig();
    r.cluster.set({ leading: true }, 'elected');
    await waitFor('the leader published', () => r.served().join(',') === ALL.join(','));
    assert.ok(r.cluster.fences >= 1, 'the write was fenced');
    r.cluster.fenceHolds = false; // deposed while it was not looking: it still believes it leads
    r.probe.fail('m1');
    await waitFor('m1 down', () => r.controller.health.m1?.state === 'down');
    const out = await r.controller.requestReconcile('after deposition');
    assert.ok(out.reports.every((x) => x.errorCode === 'NOT_LEADER'), JSON.stringify(out.reports));
    const fencedAt = Date.now();
    await r.controller.requestReconcile('once more');
    assert.deepEqual(r.served(), ALL, 'nothing written after the fence failed');
    assert.ok(!r.audits.some((e) => e.kind === 'apply' && e.at >= fencedAt), 'no apply audited after the fence failed');
  });

  it('a deposed leader that still believes it leads audits no provider outage or recovery (nothing fenced them)', async () => {
    const r = await rig();
    r.cluster.set({ leading: true }, 'elected');
    await waitFor('the leader published', () => r.served().join(',') === ALL.join(','));
    // the publishing apply is audited just after the write lands: it must not count as one after the deposition
    await waitFor('the publishing apply audited', () => r.audits.some((e) => e.kind === 'apply'));
    r.cluster.fenceHolds = false;
    const fencedAt = Date.now();
    r.driver.failListNext = 1;
    const failed = await r.controller.requestReconcile('the list fails');
    assert.ok(failed.reports.some((x) => !x.ok), JSON.stringify(failed.reports));
    // nothing to change now: the pass writes nothing, so no fence is asked for on the way
    const ok = await r.controller.requestReconcile('the list works again');
    assert.ok(ok.reports.every((x) => x.ok), JSON.stringify(ok.reports));
    const late = r.audits.filter((e) => e.kind === 'apply' && e.at >= fencedAt);
    assert.deepEqual(late, [], 'neither the outage nor the recovery is audited by a replica whose fence no longer holds');
  });

  it('a vantage whose lease lapsed forgets its verdicts: it counts again only with probes made after, and writes nothing before', async () => {
    const r = await rig();
    r.cluster.set({ leading: true }, 'elected');
    r.probe.fail('m1');
    await waitFor('m1 down and out', () => r.controller.health.m1?.state === 'down' && !r.served().includes('127.0.0.12'));
    // paused past its lease: meanwhile m1 came back, which this vantage did not see
    r.probe.heal('m1');
    r.cluster.set({ trouble: 'the lease of vantage me was lost' });
    r.cluster.emit('lapsed');
    const published = r.cluster.published.at(-1)!;
    assert.notEqual(published.m1?.state, 'down', 'what it publishes once its lease is back is not the down from before the pause');
    assert.equal(r.controller.health.m1?.state, 'unknown');
    r.cluster.set({ trouble: undefined });
    const held = await r.controller.requestReconcile('lease back');
    assert.match(held.skipped ?? '', /since its lease lapsed/);
    await waitFor('m1 up from fresh probes, served again', () => r.controller.health.m1?.state === 'up' && r.served().join(',') === ALL.join(','));
  });

  it('other vantages count by quorum: one vantage alone calling m1 down is outvoted', async () => {
    const r = await rig();
    r.cluster.set({ leading: true, others: [other('b', { m0: 'up', m1: 'up', m2: 'up' }), other('c', { m0: 'up', m1: 'up', m2: 'up' })] }, 'elected');
    await waitFor('published', () => r.served().join(',') === ALL.join(','));
    r.probe.fail('m1');
    await waitFor('m1 down here', () => r.controller.health.m1?.state === 'down');
    await r.controller.requestReconcile('outvoted');
    assert.deepEqual(r.served(), ALL, 'one vote of three is no majority');
    r.cluster.set({ others: [other('b', { m0: 'up', m1: 'down', m2: 'up' }), other('c', { m0: 'up', m1: 'up', m2: 'up' })] });
    await waitFor('m1 out once a second vantage agrees', () => r.served().join(',') === '127.0.0.11,127.0.0.13');
  });

  it('too few live vantages, or etcd lost: fail static, audited with why; resumes after', async () => {
    const r = await rig({ minVantages: 2 });
    r.cluster.set({ leading: true, others: [other('b', { m0: 'up', m1: 'up', m2: 'up' })] }, 'elected');
    await waitFor('published', () => r.served().join(',') === ALL.join(','));
    r.cluster.set({ others: [other('b', { m0: 'up', m1: 'up', m2: 'up' }, false)] });
    r.probe.fail('m2');
    await waitFor('m2 down here', () => r.controller.health.m2?.state === 'down');
    const out = await r.controller.requestReconcile('alone');
    assert.match(out.skipped ?? '', /fail static: only 1 live vantage/);
    assert.deepEqual(r.served(), ALL);
    assert.ok(r.audits.some((e) => e.kind === 'fail-static' && /only 1 live vantage/.test(e.message)));
    r.cluster.set({ trouble: 'etcd unreachable for 3s', others: [other('b', { m0: 'up', m1: 'up', m2: 'down' })] });
    assert.match((await r.controller.requestReconcile('etcd lost')).skipped ?? '', /fail static: etcd unreachable/);
    assert.deepEqual(r.served(), ALL);
    r.cluster.set({ trouble: undefined });
    await waitFor('m2 out once etcd is back', () => r.served().join(',') === '127.0.0.11,127.0.0.12');
    // audited by the round that left fail static, which a concurrent round may overtake with its write
    await waitFor('fail static over, audited', () => r.audits.some((e) => e.kind === 'daemon' && /fail static over/.test(e.message)));
  });

  it('the leader saves the decided health (the quorum), never one vantage\'s view', async () => {
    const r = await rig();
    r.cluster.set({ leading: true, others: [other('b', { m0: 'up', m1: 'up', m2: 'up' }), other('c', { m0: 'up', m1: 'up', m2: 'up' })] }, 'elected');
    await waitFor('published', () => r.served().join(',') === ALL.join(','));
    r.probe.fail('m1');
    await waitFor('m1 down here', () => r.controller.health.m1?.state === 'down');
    await r.controller.persist();
    assert.equal((await r.store.load()).health.m1.state, 'up', 'saved: the quorum\'s verdict, not this vantage\'s');
  });

  it('shared-state audits (not provisioned, inventory changed, deplatformed) are written once, by the leader; each vantage audits its own flips', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-roles-'));
    const base = fleetFixture({ alternateDomains: [], dnsProviders: [{ name: 'memdns', kind: 'local', settings: {} }], state: { kind: 'file', path: dir, endpoints: [] } });
    // m2 has no address in the stack file: not provisioned until the inventory gives it one
    const spec = { ...base, mirrors: base.mirrors.map((m) => (m.name === 'm2' ? { ...m, ipv4: undefined } : m)) };
    const board = new Map<string, BoardCluster>();
    const probe = new SignProbe();
    const driver = new MemoryDriver('memdns');
    const rigs = ['a', 'b', 'c'].map((v) => {
      const cluster = new BoardCluster(v, board, v === 'a');
      const controller = new Controller({ spec, store: new FileStateStore(dir), drivers: [driver], probe, cluster, query: async (q) => ({ ok: true, values: driver.answer(q.name, q.type) }), verifyDeadlineMs: 2000, resyncMs: 60_000, overridePollMs: 100 });
      made.push({ c: controller, dir });
      return controller;
    });
    for (const c of rigs) await c.start();
    const log = () => new FileStateStore(dir).audit(0);
    const served = () => [...driver.answer(spec.domain, 'A')].sort().join(',');
    await waitFor('m0 and m1 served', () => served() === '127.0.0.11,127.0.0.12', 15_000);
    probe.signs.set('m1', 'HTTP 451 Unavailable For Legal Reasons');
    await waitFor('m1 out of the answer', () => served() === '127.0.0.11', 15_000);
    await waitFor('every vantage holds m1 down', () => rigs.every((c) => c.health.m1?.state === 'down'), 15_000);
    await updateState(new FileStateStore(dir), (s) => { s.inventory = { updatedAt: 2, mirrors: { m2: { provider: 'local', ipv4: '127.0.0.13', at: 2, source: 'pulumi' } } }; });
    await waitFor('every vantage read the new inventory', () => rigs.every((c) => c.inventory?.mirrors.m2?.ipv4 === '127.0.0.13'), 15_000);
    await waitFor('m2 served once it passed its rise probes', () => served() === '127.0.0.11,127.0.0.13', 15_000);
    // audits are appended beside the work: wait until every vantage's m1 flip and the inventory entry are in the log
    const events = await waitFor('the flips of all three vantages and the inventory change in the log', async () => {
      const ev = await log();
      const flips = ev.filter((e) => e.kind === 'flip' && e.data?.mirror === 'm1' && e.data?.state === 'down').length;
      return flips >= 3 && ev.some((e) => /inventory changed/.test(e.message)) ? ev : undefined;
    }, 15_000);
    const of = (kind: string, test: (e: AuditEvent) => boolean = () => true) => events.filter((e) => e.kind === kind && test(e)).map((e) => e.actor);
    assert.deepEqual(of('inventory', (e) => /not provisioned/.test(e.message)), ['vantage a'], 'not provisioned: one entry, the leader\'s');
    assert.deepEqual(of('inventory', (e) => /inventory changed/.test(e.message)), ['vantage a'], 'inventory changed: one entry, the leader\'s');
    const dep = events.filter((e) => e.kind === 'deplatformed');
    assert.deepEqual(dep.map((e) => [e.actor, e.data?.mirror]), [['vantage a', 'm1']], 'deplatformed: one entry, the leader\'s');
    // audited as soon as the quorum (2 of 3) held it down, naming the vantages that saw the sign by then
    const seenBy = dep[0].data?.seenBy as string[];
    assert.ok(seenBy.length >= 2 && seenBy.every((v) => ['a', 'b', 'c'].includes(v)), JSON.stringify(seenBy));
    // observations stay per vantage, tagged with it and carrying the sign
    assert.deepEqual(of('flip', (e) => e.data?.mirror === 'm1' && e.data?.state === 'down').sort(), ['vantage a', 'vantage b', 'vantage c']);
    assert.ok(events.filter((e) => e.kind === 'flip' && e.data?.mirror === 'm1').every((e) => e.data?.deplatformed === 'HTTP 451 Unavailable For Legal Reasons'));
  });
});
