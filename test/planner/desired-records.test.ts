import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Health, MirrorState } from '../../src/domain/health.ts';
import type { Override } from '../../src/domain/override.ts';
import { desiredRecords, placeholder } from '../../src/planner/desired-records.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const h = (state: MirrorState) => ({ state, successStreak: 0, failureStreak: 0, recentFlips: [] });
const NOW = 1_000_000;

const arbState = fc.constantFrom<MirrorState>('up', 'down', 'unknown');
const arbCase = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    states: fc.array(arbState, { minLength: n, maxLength: n }),
    drains: fc.array(fc.record({ i: fc.integer({ min: 0, max: n - 1 }), expired: fc.boolean() }), { maxLength: n }),
    failovers: fc.uniqueArray(fc.record({ i: fc.integer({ min: 0, max: n - 1 }), expired: fc.boolean(), at: fc.integer({ min: 1, max: 9 }) }), { selector: (f) => f.at, maxLength: 2 }),
    lastGood: fc.subarray(Array.from({ length: n }, (_, i) => i)),
    // addresses in no particular order (so an unsorted answer shows), some mirrors with IPv6
    v4: fc.shuffledSubarray(Array.from({ length: 20 }, (_, i) => `127.0.0.${11 + i}`), { minLength: n, maxLength: n }),
    v6: fc.array(fc.option(fc.integer({ min: 1, max: 0xffff }).map((x) => `2001:db8::${x.toString(16)}`)), { minLength: n, maxLength: n }),
  }),
);

type Case = { n: number; states: MirrorState[]; drains: { i: number; expired: boolean }[]; failovers: { i: number; expired: boolean; at: number }[]; lastGood: number[]; v4: string[]; v6: (string | null)[] };
function build(c: Case) {
  const spec = fleetFixture({}, c.n);
  spec.mirrors = spec.mirrors.map((m, i) => ({ ...m, ipv4: c.v4[i], ipv6: c.v6[i] ?? undefined }));
  const health: Health = {};
  c.states.forEach((s, i) => (health[`m${i}`] = h(s)));
  const overrides: Override[] = c.drains.map((d, k) => ({
    id: `d${k}`, kind: 'drain', mirror: `m${d.i}`, reason: 'r', author: 'a', createdAt: NOW - 10, expiresAt: d.expired ? NOW - 1 : NOW + 1000,
  }));
  for (const f of c.failovers) overrides.push({ id: `f${f.at}`, kind: 'failover', mirror: `m${f.i}`, reason: 'r', author: 'a', createdAt: NOW - 100 + f.at, expiresAt: f.expired ? NOW - 1 : undefined });
  return { spec, health, overrides, lastGood: c.lastGood.map((i) => `m${i}`) };
}

/**
 * The serving rules of DESIGN.md, written out independently of the planner: the newest active forced failover
 * wins; else the mirrors not down and not drained; a drain yields when it would empty the answer; when every
 * mirror is down, fail open to the last good set (in spec order), or to every mirror when there is none.
 */
function expectedServing(c: Case): { serving: string[]; failOpen: boolean } {
  const names = Array.from({ length: c.n }, (_, i) => `m${i}`);
  const forced = c.failovers.filter((f) => !f.expired).sort((a, b) => b.at - a.at)[0];
  if (forced) return { serving: [`m${forced.i}`], failOpen: false };
  const up = names.filter((_, i) => c.states[i] !== 'down');
  const drained = new Set(c.drains.filter((d) => !d.expired).map((d) => `m${d.i}`));
  const upUndrained = up.filter((m) => !drained.has(m));
  if (upUndrained.length > 0) return { serving: upUndrained, failOpen: false };
  if (up.length > 0) return { serving: up, failOpen: false };
  const last = names.filter((_, i) => c.lastGood.includes(i));
  return { serving: last.length > 0 ? last : names, failOpen: true };
}

const sortedStrings = (xs: string[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('desiredRecords', () => {
  it('serves exactly the healthy, non-drained mirrors; fails open to the last good set; never empty (property)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { spec, health, overrides, lastGood } = build(c);
        const d = desiredRecords(spec, health, overrides, { now: NOW, lastGood });
        const want = expectedServing(c);
        assert.deepEqual(d.serving, want.serving);
        assert.equal(d.failOpen, want.failOpen);
        assert.ok(d.serving.length > 0);
        const addr = (family: 'ipv4' | 'ipv6') => sortedStrings([...new Set(spec.mirrors.filter((m) => want.serving.includes(m.name)).map((m) => m[family]).filter((a): a is string => !!a))]);
        const anyV6 = spec.mirrors.some((m) => m.ipv6);
        const recs = d.zones['example.test'];
        for (const name of [spec.domain, ...spec.alternateDomains]) {
          // the answer holds the serving mirrors' addresses and nothing else
          assert.deepEqual(recs.find((r) => r.name === name && r.type === 'A')?.values, addr('ipv4'), `A ${name}`);
          assert.deepEqual(recs.find((r) => r.name === name && r.type === 'AAAA')?.values, anyV6 && addr('ipv6').length > 0 ? addr('ipv6') : undefined, `AAAA ${name}`);
          assert.ok(recs.some((r) => r.name === `_flotilla-a.${name}` && r.type === 'TXT' && r.values[0] === 'heritage=flotilla,owner=test'), `marker for ${name} A`);
          assert.equal(recs.some((r) => r.name === `_flotilla-aaaa.${name}`), anyV6, `marker for ${name} AAAA`);
        }
        const expectedCount = 2 * (anyV6 ? (addr('ipv6').length > 0 ? 4 : 3) : 2);
        assert.equal(recs.length, expectedCount, 'no other record');
        for (const r of recs) assert.equal(r.ttl, spec.policy.ttl);
      }),
    );
  });

  it('is deterministic and sorted: records by name then type, values sorted (property)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { spec, health, overrides, lastGood } = build(c);
        const d = desiredRecords(spec, health, overrides, { now: NOW, lastGood });
        assert.deepEqual(d, desiredRecords(spec, health, overrides, { now: NOW, lastGood }));
        const recs = d.zones['example.test'];
        const keys = recs.map((r) => `${r.name} ${r.type}`);
        const byNameThenType = [...recs].sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
        assert.deepEqual(keys, byNameThenType.map((r) => `${r.name} ${r.type}`));
        for (const r of recs) assert.deepEqual(r.values, sortedStrings(r.values), `${r.name} ${r.type} values`);
      }),
    );
  });

  it('fails open to the last good set when every mirror is down', () => {
    const spec = fleetFixture();
    const d = desiredRecords(spec, { m0: h('down'), m1: h('down'), m2: h('down') }, [], { now: NOW, lastGood: ['m1'] });
    assert.equal(d.failOpen, true);
    assert.equal(d.degraded, true, 'failing open is degraded whatever the count kept');
    assert.deepEqual(d.serving, ['m1']);
    const all = desiredRecords(spec, { m0: h('down'), m1: h('down'), m2: h('down') }, [], { now: NOW, lastGood: ['m0', 'm1', 'm2'] });
    assert.equal(all.degraded, true);
    assert.deepEqual(d.zones['example.test'].find((r) => r.name === 'example.test' && r.type === 'A')!.values, ['127.0.0.12']);
  });

  it('emits ownership markers and placeholders for mirrors without an address', () => {
    const spec = fleetFixture();
    spec.mirrors[0] = { ...spec.mirrors[0], ipv4: undefined, provider: 'aws' };
    const d = desiredRecords(spec, {}, [], { now: NOW, placeholders: true });
    const recs = d.zones['example.test'];
    assert.ok(recs.some((r) => r.name === '_flotilla-a.example.test' && r.values[0] === 'heritage=flotilla,owner=test'));
    assert.ok(recs.find((r) => r.name === 'example.test' && r.type === 'A')!.values.includes(placeholder('m0', 'ipv4')));
    const without = desiredRecords(spec, {}, [], { now: NOW });
    assert.equal(without.zones['example.test'].find((r) => r.name === 'example.test' && r.type === 'A')!.values.length, 2);
  });

  it('publishes AAAA only when a mirror has IPv6, and a drain yields when it would empty the answer', () => {
    const spec = fleetFixture({}, 2);
    spec.mirrors[1] = { ...spec.mirrors[1], ipv6: '2001:DB8::1' };
    const d = desiredRecords(spec, { m0: h('down') }, [{ id: 'x', kind: 'drain', mirror: 'm1', reason: 'r', author: 'a', createdAt: 0 }], { now: NOW });
    assert.deepEqual(d.serving, ['m1']);
    assert.ok(d.notes.some((n) => n.includes('drain ignored')));
    assert.ok(d.zones['example.test'].some((r) => r.type === 'AAAA'));
  });
});
