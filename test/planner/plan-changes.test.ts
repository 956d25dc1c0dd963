import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Change, RecordSet } from '../../src/domain/records.ts';
import { rrsetKey } from '../../src/domain/records.ts';
import { markerRecord } from '../../src/planner/ownership.ts';
import { planChanges } from '../../src/planner/plan-changes.ts';

const OWNER = 'me';
const opts = { ownerId: OWNER, maxRemoveShare: 1 };

/** Applies changes to a record list the way a correct driver would. */
function apply(current: RecordSet[], changes: Change[]): RecordSet[] {
  const m = new Map(current.map((r) => [rrsetKey(r), r]));
  for (const c of changes) {
    if (c.action === 'delete') m.delete(rrsetKey(c.before));
    else m.set(rrsetKey(c.after), c.after);
  }
  return [...m.values()];
}

const arbName = fc.constantFrom('a.z', 'b.z', 'c.z', 'z', 'www.z');
const arbIp = fc.integer({ min: 1, max: 20 }).map((i) => `192.0.2.${i}`);
const arbOwned = fc.uniqueArray(fc.record({ name: arbName, values: fc.uniqueArray(arbIp, { minLength: 1, maxLength: 3 }) }), { selector: (r) => r.name, maxLength: 5 });
const toRecords = (xs: { name: string; values: string[] }[]): RecordSet[] =>
  xs.flatMap((x) => [markerRecord(x.name, 'A', OWNER, 60), { name: x.name, type: 'A' as const, ttl: 60, values: x.values }]);
const arbForeign = fc.uniqueArray(fc.record({ name: fc.constantFrom('a.z', 'f.z', 'g.z'), values: fc.uniqueArray(arbIp, { minLength: 1, maxLength: 2 }) }), { selector: (r) => r.name, maxLength: 2 });

describe('planChanges', () => {
  it('planning the desired state against itself gives no change (property)', () => {
    fc.assert(fc.property(arbOwned, (xs) => {
      const d = toRecords(xs);
      assert.deepEqual(planChanges(d, d, opts).changes, []);
    }));
  });

  it('applying a plan converges: the next plan is empty (property)', () => {
    fc.assert(fc.property(arbOwned, arbOwned, arbForeign, (cur, want, foreign) => {
      const f: RecordSet[] = foreign.map((x) => ({ name: x.name, type: 'A', ttl: 300, values: x.values }));
      const fNames = new Set(f.map((r) => r.name));
      const current = [...f, ...toRecords(cur.filter((x) => !fNames.has(x.name)))];
      const desired = toRecords(want);
      const after = apply(current, planChanges(current, desired, opts).changes);
      assert.deepEqual(planChanges(after, desired, opts).changes, []);
    }));
  });

  it('never touches foreign records (property)', () => {
    fc.assert(fc.property(arbOwned, arbOwned, arbForeign, (cur, want, foreign) => {
      const f: RecordSet[] = foreign.map((x) => ({ name: x.name, type: 'A', ttl: 300, values: x.values }));
      const fNames = new Set(f.map((r) => r.name));
      const current = [...f, ...toRecords(cur.filter((x) => !fNames.has(x.name)))];
      const plan = planChanges(current, toRecords(want), opts);
      for (const c of plan.changes) {
        const key = rrsetKey(c.action === 'delete' ? c.before : c.after);
        assert.ok(!f.some((r) => rrsetKey(r) === key), `touched foreign ${key}`);
        assert.ok(!f.some((r) => key === `_flotilla-a.${r.name}/TXT`), `claimed foreign ${key}`);
      }
    }));
  });

  it('writes markers before records and removes them after', () => {
    const plan = planChanges([], toRecords([{ name: 'a.z', values: ['192.0.2.1'] }]), opts);
    assert.deepEqual(plan.changes.map((c) => c.action === 'create' && c.after.type), ['TXT', 'A']);
    const del = planChanges(toRecords([{ name: 'a.z', values: ['192.0.2.1'] }]), [], opts);
    assert.deepEqual(del.changes.map((c) => c.action === 'delete' && c.before.type), ['A', 'TXT']);
  });

  it('refuses a plan deleting more than maxRemoveShare unless forced', () => {
    const current = toRecords([{ name: 'a.z', values: ['192.0.2.1'] }, { name: 'b.z', values: ['192.0.2.2'] }]);
    const plan = planChanges(current, [], { ownerId: OWNER, maxRemoveShare: 0.5 });
    assert.match(plan.refused ?? '', /deletes 4 of 4 RRsets.*--force/);
    assert.equal(planChanges(current, [], { ownerId: OWNER, maxRemoveShare: 0.5, force: true }).refused, undefined);
    // a value change within an RRset (a failover) is an update, never refused
    const fo = planChanges(current, toRecords([{ name: 'a.z', values: ['192.0.2.9'] }, { name: 'b.z', values: ['192.0.2.2'] }]), { ownerId: OWNER, maxRemoveShare: 0 });
    assert.equal(fo.refused, undefined);
  });

  it('treats another owner\'s markers as foreign', () => {
    const theirs = [markerRecord('a.z', 'A', 'other', 60), { name: 'a.z', type: 'A' as const, ttl: 60, values: ['192.0.2.1'] }];
    const plan = planChanges(theirs, toRecords([{ name: 'a.z', values: ['192.0.2.2'] }]), opts);
    assert.equal(plan.changes.length, 0);
    assert.equal(plan.conflicts.length, 2);
  });
});
