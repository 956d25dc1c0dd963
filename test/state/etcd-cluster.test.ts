/**
 * EtcdCluster on a real 3-member etcd: vantage keys under leases, one leader by election, and the fence (the
 * leader key's create revision compared in the same transaction as each write).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { unknownHealth } from '../../src/domain/health.ts';
import { EtcdCluster, pollDelay, readClusterView, readPredatesDelete } from '../../src/state/etcd-cluster.ts';
import { EtcdStateStore } from '../../src/state/etcd-state-store.ts';
import { startEtcdCluster, type EtcdCluster as EtcdLab } from '../support/etcd-cluster.ts';

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('readPredatesDelete', () => {
  it('a read begun before the delete was heard does not bring the vantage back', () => {
    assert.equal(readPredatesDelete({ readBegan: 100, goneAt: 150 }), true);
    assert.equal(readPredatesDelete({ readBegan: 100, goneAt: 150, heardAt: 120 }), true);
  });
  it('a read begun after the delete, or a put heard after it, counts', () => {
    assert.equal(readPredatesDelete({ readBegan: 200, goneAt: 150 }), false);
    assert.equal(readPredatesDelete({ readBegan: 100, goneAt: 150, heardAt: 180 }), false);
    assert.equal(readPredatesDelete({ readBegan: 100 }), false);
  });
});

describe('pollDelay', () => {
  it('reads in full at the resync pace while the watch delivers news', () => {
    assert.equal(pollDelay({ watching: true, pollMs: 1000 }), 1000);
  });
  it('reads every 100 ms while the watch is down (before it connects, or while it reconnects after a member died)', () => {
    assert.equal(pollDelay({ watching: false, pollMs: 1000 }), 100);
    assert.equal(pollDelay({ watching: false, pollMs: 50 }), 50);
  });
});

describe('EtcdCluster (real 3-member etcd)', { timeout: 120_000 }, () => {
  let lab: EtcdLab;
  const prefix = '/flotilla/cluster-test/';
  const made: EtcdCluster[] = [];
  const make = (vantage: string) => {
    const c = new EtcdCluster({ endpoints: lab.endpoints, prefix, vantage, leaseTtlS: 2, pollMs: 50 });
    made.push(c);
    return c;
  };

  before(async () => {
    lab = await startEtcdCluster();
  });
  after(async () => {
    await Promise.all(made.map((c) => c.stop().catch(() => undefined)));
    await lab?.stop();
  });

  it('each vantage publishes only its own key; exactly one leader', async () => {
    const a = make('a');
    const b = make('b');
    await a.start();
    await b.start();
    await a.publish({ m0: { ...unknownHealth(), state: 'down' } });
    await b.publish({ m0: { ...unknownHealth(), state: 'up' } });
    // each sees the other's verdicts, and its own as published (not the other's)
    await waitFor('both verdicts seen by a', () => a.vantages().find((v) => v.name === 'b')?.health.m0?.state === 'up' && a.vantages().find((v) => v.name === 'a')?.health.m0?.state === 'down');
    await waitFor('both verdicts seen by b', () => b.vantages().find((v) => v.name === 'a')?.health.m0?.state === 'down' && b.vantages().find((v) => v.name === 'b')?.health.m0?.state === 'up');
    assert.equal(a.vantages().filter((v) => v.live).length, 2);
    await waitFor('a leader', () => a.isLeader() || b.isLeader());
    assert.notEqual(a.isLeader(), b.isLeader());
    const leader = a.isLeader() ? a : b;
    await waitFor('the leader known to both', () => a.leader()?.vantage === leader.vantage && b.leader()?.vantage === leader.vantage);
    const view = await readClusterView({ endpoints: lab.endpoints, prefix });
    assert.deepEqual(view.vantages.map((v) => v.name), ['a', 'b']);
    assert.equal(view.leader?.vantage, leader.vantage);
  });

  it('a vantage whose lease expired stops counting', async () => {
    const a = made[0];
    const ghost = new Etcd3({ hosts: lab.endpoints });
    const lease = ghost.namespace(prefix).lease(2, { autoKeepAlive: false });
    await lease.put('vantages/ghost').value(JSON.stringify({ vantage: 'ghost', at: Date.now(), health: {} })).exec();
    await waitFor('ghost live', () => a.vantages().find((v) => v.name === 'ghost')?.live);
    ghost.close(); // no keep-alive, no revoke: like a replica SIGKILLed or cut off
    const t0 = Date.now();
    await waitFor('ghost stale', () => a.vantages().find((v) => v.name === 'ghost')?.live === false, 10_000);
    assert.ok(Date.now() - t0 < 5000, `ghost stayed live ${Date.now() - t0}ms after its keep-alives stopped (TTL 2 s)`);
  });

  it("a vantage whose own lease is lost says so ('lapsed'), then publishes again under a new lease", async () => {
    const a = made[0];
    let lapsed = 0;
    a.on('lapsed', () => lapsed++);
    const admin = new Etcd3({ hosts: lab.endpoints });
    try {
      const kv = (await admin.namespace(prefix).get('vantages/a').exec()).kvs[0];
      assert.ok(kv && kv.lease !== '0', 'a publishes under a lease');
      // what a pause past the TTL leads to: etcd ends the lease; the keep-alive learns it
      await admin.leaseClient.leaseRevoke({ ID: kv.lease });
      await waitFor("'lapsed' emitted", () => lapsed === 1, 10_000);
      assert.match(a.problem() ?? '', /lease of vantage a was lost/);
      await waitFor('a lease granted again', () => a.problem() === undefined, 10_000);
    } finally {
      admin.close();
    }
  });

  it('flips and expired leases arrive by watch, not at the next poll', async () => {
    // no poll after the first: whatever this replica learns, it learns from the watch
    const w = new EtcdCluster({ endpoints: lab.endpoints, prefix, vantage: 'watcher', leaseTtlS: 2, pollMs: 600_000 });
    made.push(w);
    await w.start();
    const ghost = new Etcd3({ hosts: lab.endpoints });
    const lease = ghost.namespace(prefix).lease(2, { autoKeepAlive: false });
    const put = (state: 'up' | 'down') => lease.put('vantages/ghost2').value(JSON.stringify({ vantage: 'ghost2', at: Date.now(), health: { m0: { ...unknownHealth(), state } } })).exec();
    await put('up');
    await waitFor('ghost2 seen up', () => w.vantages().find((v) => v.name === 'ghost2')?.health.m0?.state === 'up');
    await put('down');
    await waitFor('ghost2 seen down', () => w.vantages().find((v) => v.name === 'ghost2')?.health.m0?.state === 'down');
    assert.equal(w.vantages().find((v) => v.name === 'ghost2')?.live, true);
    ghost.close(); // its lease runs out: etcd deletes the key
    await waitFor('ghost2 stale', () => w.vantages().find((v) => v.name === 'ghost2')?.live === false, 10_000);
  });

  it('the fence: once the leader key is gone, no write and no state save gets through', async () => {
    const [a, b] = made;
    const leader = a.isLeader() ? a : b;
    await leader.fence();
    const fence = leader.currentFence()!;
    const store = new EtcdStateStore({ endpoints: lab.endpoints, prefix });
    store.setFence(fence);
    const st = await store.load();
    assert.equal(await store.save({ ...st, lastGood: ['m0'] }, st.version), true, 'the leader saves');
    // the leader key vanishes under it (its lease expired while it slept): it has not noticed yet
    const other = new Etcd3({ hosts: lab.endpoints });
    try {
      await other.delete().key(fence.key).exec();
    } finally {
      other.close();
    }
    const saved = await store.load();
    await assert.rejects(store.save({ ...saved, lastGood: ['m1'] }, saved.version), (e: Error & { code?: string }) => e.code === 'NOT_LEADER');
    assert.deepEqual((await store.load()).lastGood, ['m0'], 'the fenced save wrote nothing');
    await assert.rejects(leader.fence(), (e: Error & { code?: string }) => e.code === 'NOT_LEADER');
    assert.equal(leader.isLeader(), false);
  });
});
