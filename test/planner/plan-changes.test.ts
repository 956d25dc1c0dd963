import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Change, RecordSet } from '../../src/domain/records.ts';
import { normalizeRecordSet, rrsetKey } from '../../src/domain/records.ts';
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
const arbOwned = fc.uniqueArray(
  fc.record({ name: arbName, ttl: fc.constantFrom(60, 300), values: fc.uniqueArray(arbIp, { minLength: 1, maxLength: 3 }) }),
  { selector: (r) => r.name, maxLength: 5 },
);
const toRecords = (xs: { name: string; ttl?: number; values: string[] }[]): RecordSet[] =>
  xs.flatMap((x) => [markerRecord(x.name, 'A', OWNER, 60), { name: x.name, type: 'A' as const, ttl: x.ttl ?? 60, values: x.values }]);
const arbForeign = fc.uniqueArray(
  fc.record({ name: fc.constantFrom('a.z', 'f.z', 'g.z'), type: fc.constantFrom<'A' | 'TXT'>('A', 'TXT'), values: fc.uniqueArray(arbIp, { minLength: 1, maxLength: 2 }) }),
  { selector: (r) => `${r.name}/${r.type}`, maxLength: 3 },
);
/** A zone holding foreign records (no marker of ours; some carry another owner's marker) and records we own. */
const arbZone = fc.record({ cur: arbOwned, want: arbOwned, foreign: arbForeign, theirs: fc.boolean() }).map(({ cur, want, foreign, theirs }) => {
  const f: RecordSet[] = foreign.map((x) => ({ name: x.name, type: x.type, ttl: 300, values: x.values }));
  if (theirs && f.length > 0) f.push(markerRecord(f[0].name, f[0].type, 'someone-else', 300));
  const fKeys = new Set(f.map(rrsetKey));
  const current = [...f, ...toRecords(cur.filter((x) => !fKeys.has(`${x.name}/A`)))];
  return { foreign: f, current, desired: toRecords(want) };
});

const canon = (rs: readonly RecordSet[]) => rs.map((r) => JSON.stringify(normalizeRecordSet(r))).sort();

describe('planChanges', () => {
  it('planning the desired state against itself gives no change (property)', () => {
    fc.assert(fc.property(arbOwned, (xs) => {
      const d = toRecords(xs);
      assert.deepEqual(planChanges(d, d, opts).changes, []);
    }));
  });

  it('apply(current, plan) == desired on owned records, foreign records untouched (property)', () => {
    fc.assert(fc.property(arbZone, ({ foreign, current, desired }) => {
      const plan = planChanges(current, desired, opts);
      const after = apply(current, plan.changes);
      const fKeys = new Set(foreign.map(rrsetKey));
      // a desired RRset whose place a foreign record holds is left out, and so is its marker (never claimed)
      const blocked = new Set(desired.filter((r) => fKeys.has(rrsetKey(r)) && r.type !== 'TXT').map((r) => `_flotilla-${r.type.toLowerCase()}.${r.name}/TXT`));
      const reachable = desired.filter((r) => !fKeys.has(rrsetKey(r)) && !blocked.has(rrsetKey(r)));
      assert.deepEqual(canon(after.filter((r) => fKeys.has(rrsetKey(r)))), canon(foreign), 'foreign records changed');
      assert.deepEqual(canon(after.filter((r) => !fKeys.has(rrsetKey(r)))), canon(reachable), 'owned records are not the desired ones');
      assert.equal(plan.conflicts.length, desired.filter((r) => fKeys.has(rrsetKey(r))).length, 'every blocked RRset is reported');
      // and the result is a fixed point
      assert.deepEqual(planChanges(after, desired, opts).changes, []);
    }));
  });

  it('never writes to a foreign record or claims its name (property)', () => {
    fc.assert(fc.property(arbZone, ({ foreign, current, desired }) => {
      const plan = planChanges(current, desired, opts);
      for (const c of plan.changes) {
        const key = rrsetKey(c.action === 'delete' ? c.before : c.after);
        assert.ok(!foreign.some((r) => rrsetKey(r) === key), `touched foreign ${key}`);
        assert.ok(!foreign.some((r) => key === `_flotilla-${r.type.toLowerCase()}.${r.name}/TXT`), `claimed foreign ${key}`);
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
