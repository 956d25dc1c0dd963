import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Inventory } from '../../src/domain/inventory.ts';
import type { RecordSet } from '../../src/domain/records.ts';
import { desiredRecords } from '../../src/planner/desired-records.ts';
import { markerRecord } from '../../src/planner/ownership.ts';
import { planChanges } from '../../src/planner/plan-changes.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const NOW = 1_000_000;
const up = { state: 'up' as const, successStreak: 3, failureStreak: 0, recentFlips: [] };

/** m0 has its address in the stack file; m1 (aws) and m2 (hcloud) are created by Pulumi. */
function fleet() {
  const spec = fleetFixture({ alternateDomains: [] }, 3);
  spec.mirrors[1] = { name: 'm1', provider: 'aws', settings: {} };
  spec.mirrors[2] = { name: 'm2', provider: 'hcloud', settings: {} };
  return spec;
}
const inventory: Inventory = {
  updatedAt: 5,
  mirrors: {
    m1: { provider: 'aws', ipv4: '198.51.100.1', at: 5, source: 'pulumi' },
    m2: { provider: 'hcloud', ipv4: '198.51.100.2', ipv6: '2001:db8::2', at: 5, source: 'pulumi' },
  },
};
const values = (zone: RecordSet[], type: string) => zone.find((r) => r.name === 'example.test' && r.type === type)?.values;

describe('desiredRecords with the inventory (pure)', () => {
  it('without an inventory, the cloud mirrors are not provisioned: not served, said why, only the known address published', () => {
    const d = desiredRecords(fleet(), {}, [], { now: NOW });
    assert.deepEqual(d.serving, ['m0']);
    assert.deepEqual(d.unprovisioned, ['m1', 'm2']);
    assert.ok(d.notes.some((n) => /m1 is not provisioned \(no known address/.test(n)), d.notes.join('\n'));
    assert.deepEqual(values(d.zones['example.test'], 'A'), ['127.0.0.11']);
    assert.equal(values(d.zones['example.test'], 'AAAA'), undefined);
  });

  it('with the inventory every mirror serves at its address, and AAAA is published for the mirror with IPv6', () => {
    const d = desiredRecords(fleet(), {}, [], { now: NOW, inventory });
    assert.deepEqual(d.serving, ['m0', 'm1', 'm2']);
    assert.deepEqual(d.unprovisioned, []);
    assert.deepEqual(values(d.zones['example.test'], 'A'), ['127.0.0.11', '198.51.100.1', '198.51.100.2']);
    assert.deepEqual(values(d.zones['example.test'], 'AAAA'), ['2001:db8::2']);
    assert.ok(d.zones['example.test'].some((r) => r.name === '_flotilla-aaaa.example.test'));
    assert.deepEqual(d.knownAddresses, ['127.0.0.11', '198.51.100.1', '198.51.100.2', '2001:db8::2']);
  });

  it('a forced failover to a mirror that is not provisioned is not obeyed (it would publish nothing)', () => {
    const d = desiredRecords(fleet(), {}, [{ id: 'x', kind: 'failover', mirror: 'm1', reason: 'r', author: 'a', createdAt: 1 }], { now: NOW });
    assert.deepEqual(d.serving, ['m0']);
  });

  it('the Pulumi program (placeholders) still counts the hosts it is about to create', () => {
    const d = desiredRecords(fleet(), {}, [], { now: NOW, placeholders: true });
    assert.deepEqual(d.serving, ['m0', 'm1', 'm2']);
  });
});

describe('addresses the controller cannot attribute (pure)', () => {
  // what Pulumi wrote before the controller knew the cloud hosts: three addresses, claimed by our marker
  const current: RecordSet[] = [
    markerRecord('example.test', 'A', 'test', 60),
    { name: 'example.test', type: 'A', ttl: 60, values: ['127.0.0.11', '198.51.100.1', '198.51.100.2'] },
  ];
  const opts = { ownerId: 'test', maxRemoveShare: 0.34 };

  it('while a mirror is not provisioned, the set is never cut down to the known address: removal refused, with why', () => {
    const d = desiredRecords(fleet(), { m0: up }, [], { now: NOW });
    const plan = planChanges(current, d.zones['example.test'], { ...opts, attribution: d });
    assert.deepEqual(plan.changes, [], JSON.stringify(plan.changes));
    assert.equal(plan.kept?.length, 1);
    assert.deepEqual(plan.kept![0].values, ['198.51.100.1', '198.51.100.2']);
    assert.match(plan.kept![0].reason, /kept 198\.51\.100\.1, 198\.51\.100\.2 at example\.test\/A: no known mirror has these addresses and m1, m2 are not provisioned/);
  });

  it('without the guard (what the daemon did before), the same plan cuts the set to one address', () => {
    const d = desiredRecords(fleet(), { m0: up }, [], { now: NOW });
    const plan = planChanges(current, d.zones['example.test'], opts);
    assert.equal(plan.changes.length, 1);
    assert.deepEqual(plan.changes[0].action === 'update' && plan.changes[0].after.values, ['127.0.0.11']);
  });

  it('a known mirror going down still leaves while the strangers stay', () => {
    const spec = fleet();
    spec.mirrors.push({ name: 'm3', provider: 'local', ipv4: '127.0.0.14', settings: {} });
    const cur: RecordSet[] = [current[0], { ...current[1], values: [...current[1].values, '127.0.0.14'] }];
    const d = desiredRecords(spec, { m0: up, m3: { ...up, state: 'down' } }, [], { now: NOW });
    const plan = planChanges(cur, d.zones['example.test'], { ...opts, attribution: d });
    assert.equal(plan.changes.length, 1);
    assert.deepEqual(plan.changes[0].action === 'update' && plan.changes[0].after.values, ['127.0.0.11', '198.51.100.1', '198.51.100.2']);
  });

  it('once every mirror is provisioned, an address no mirror has (a replaced host) is removed', () => {
    const inv: Inventory = { updatedAt: 6, mirrors: { ...inventory.mirrors, m1: { provider: 'aws', ipv4: '198.51.100.9', at: 6, source: 'pulumi' } } };
    const d = desiredRecords(fleet(), {}, [], { now: NOW, inventory: inv });
    const plan = planChanges(current, d.zones['example.test'], { ...opts, attribution: d });
    assert.equal(plan.kept, undefined);
    const a = plan.changes.find((c) => c.action === 'update' && c.after.type === 'A');
    assert.deepEqual(a && a.action === 'update' && a.after.values, ['127.0.0.11', '198.51.100.2', '198.51.100.9']);
  });

  it('after a destroy (Inventory.destroyedAt) a mirror without an address has no host: the released addresses are removed', () => {
    const d = desiredRecords(fleet(), { m0: up }, [], { now: NOW, inventory: { updatedAt: 7, mirrors: {}, destroyedAt: 7 } });
    assert.deepEqual(d.serving, ['m0']);
    assert.deepEqual(d.unprovisioned, []);
    const plan = planChanges(current, d.zones['example.test'], { ...opts, attribution: d });
    assert.equal(plan.kept, undefined);
    assert.deepEqual(plan.changes.map((c) => c.action === 'update' && c.after.values), [['127.0.0.11']]);
  });

  it('a set with only strangers is kept with its marker, not deleted, when no mirror is known at all', () => {
    const spec = fleet();
    spec.mirrors = spec.mirrors.slice(1);
    const d = desiredRecords(spec, {}, [], { now: NOW });
    assert.deepEqual(d.serving, []);
    const plan = planChanges(current, d.zones['example.test'], { ...opts, attribution: d });
    assert.deepEqual(plan.changes.filter((c) => c.action === 'delete'), []);
    assert.equal(plan.refused, undefined);
  });
});

describe('a mirror moved to a new address (pure)', () => {
  const moved = { state: 'down' as const, successStreak: 1, failureStreak: 0, recentFlips: [], awaitingRise: true };
  const cur: RecordSet[] = [markerRecord('example.test', 'A', 'test', 60), { name: 'example.test', type: 'A', ttl: 60, values: ['127.0.0.11', '198.51.100.1'] }];
  const inv: Inventory = { updatedAt: 7, mirrors: { m1: { provider: 'aws', ipv4: '198.51.100.9', at: 7, source: 'pulumi' }, m2: { provider: 'hcloud', ipv4: '198.51.100.2', at: 7, source: 'pulumi' } } };

  it('is not served, not even when failing open, until rise probes pass there', () => {
    const d = desiredRecords(fleet(), { m0: { ...up, state: 'down' }, m1: moved, m2: { ...up, state: 'down' } }, [], { now: NOW, inventory: inv, lastGood: ['m1'] });
    assert.equal(d.failOpen, true);
    assert.ok(!d.serving.includes('m1'), d.serving.join(','));
    assert.ok(!values(d.zones['example.test'], 'A')!.includes('198.51.100.9'));
    assert.deepEqual(d.awaitingRise, ['m1']);
  });

  it('the old host stays in until the new one is proven, then leaves in the same change that adds it', () => {
    const waiting = desiredRecords(fleet(), { m0: up, m1: moved, m2: up }, [], { now: NOW, inventory: inv });
    const p1 = planChanges(cur, waiting.zones['example.test'], { ownerId: 'test', maxRemoveShare: 0.34, attribution: waiting });
    const a1 = p1.changes.find((c) => c.action === 'update');
    assert.deepEqual(a1 && a1.action === 'update' && a1.after.values, ['127.0.0.11', '198.51.100.1', '198.51.100.2']);
    assert.match(p1.kept![0].reason, /kept 198\.51\.100\.1 .* m1 has not yet passed rise probes at its new address/);
    const proven = desiredRecords(fleet(), { m0: up, m1: up, m2: up }, [], { now: NOW, inventory: inv });
    const p2 = planChanges(cur, proven.zones['example.test'], { ownerId: 'test', maxRemoveShare: 0.34, attribution: proven });
    const a2 = p2.changes.find((c) => c.action === 'update');
    assert.deepEqual(a2 && a2.action === 'update' && a2.after.values, ['127.0.0.11', '198.51.100.2', '198.51.100.9']);
    assert.equal(p2.kept, undefined);
  });
});
