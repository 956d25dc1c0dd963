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
    failover: fc.option(fc.record({ i: fc.integer({ min: 0, max: n - 1 }), expired: fc.boolean() })),
    lastGood: fc.subarray(Array.from({ length: n }, (_, i) => i)),
  }),
);

type Case = { n: number; states: MirrorState[]; drains: { i: number; expired: boolean }[]; failover: { i: number; expired: boolean } | null; lastGood: number[] };
function build(c: Case) {
  const spec = fleetFixture({}, c.n);
  const health: Health = {};
  c.states.forEach((s, i) => (health[`m${i}`] = h(s)));
  const overrides: Override[] = c.drains.map((d, k) => ({
    id: `d${k}`, kind: 'drain', mirror: `m${d.i}`, reason: 'r', author: 'a', createdAt: NOW - 10, expiresAt: d.expired ? NOW - 1 : NOW + 1000,
  }));
  if (c.failover) overrides.push({ id: 'f', kind: 'failover', mirror: `m${c.failover.i}`, reason: 'r', author: 'a', createdAt: NOW - 5, expiresAt: c.failover.expired ? NOW - 1 : undefined });
  return { spec, health, overrides, lastGood: c.lastGood.map((i) => `m${i}`) };
}

describe('desiredRecords', () => {
  it('never publishes an empty answer (property)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { spec, health, overrides, lastGood } = build(c);
        const d = desiredRecords(spec, health, overrides, { now: NOW, lastGood });
        assert.ok(d.serving.length > 0);
        for (const name of [spec.domain, ...spec.alternateDomains]) {
          const a = d.zones['example.test'].find((r) => r.name === name && r.type === 'A');
          assert.ok(a && a.values.length > 0, `no A for ${name}`);
        }
      }),
    );
  });

  it('drained mirrors are absent unless they are the last ones up; down mirrors absent unless failing open (property)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { spec, health, overrides, lastGood } = build(c);
        const d = desiredRecords(spec, health, overrides, { now: NOW, lastGood });
        const forced = overrides.find((o) => o.kind === 'failover' && (o.expiresAt === undefined || o.expiresAt > NOW));
        if (forced) return assert.deepEqual(d.serving, [forced.mirror]);
        const up = spec.mirrors.map((m) => m.name).filter((n) => health[n].state !== 'down');
        const drained = new Set(overrides.filter((o) => o.kind === 'drain' && o.expiresAt! > NOW).map((o) => o.mirror));
        const upUndrained = up.filter((n) => !drained.has(n));
        if (upUndrained.length > 0) assert.deepEqual(d.serving, upUndrained);
        else if (up.length > 0) assert.deepEqual(d.serving, up);
        else assert.equal(d.failOpen, true);
      }),
    );
  });

  it('is deterministic and sorted', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { spec, health, overrides, lastGood } = build(c);
        assert.deepEqual(desiredRecords(spec, health, overrides, { now: NOW, lastGood }), desiredRecords(spec, health, overrides, { now: NOW, lastGood }));
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
