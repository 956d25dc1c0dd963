import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decide, downNeeded, quorumHealth, type VantageView } from '../../src/controller/decide.ts';
import { unknownHealth, type Health, type MirrorState } from '../../src/domain/health.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const h = (states: Record<string, MirrorState>): Health =>
  Object.fromEntries(Object.entries(states).map(([m, state]) => [m, { ...unknownHealth(), state }]));
const v = (name: string, states: Record<string, MirrorState>, live = true): VantageView => ({ name, live, health: h(states) });
const ALL_UP = { m0: 'up', m1: 'up', m2: 'up' } as const;

describe('decide: quorum of live vantages', () => {
  it('a majority by default: 1 of 3 vantages calling a mirror down keeps it in, 2 of 3 take it out', () => {
    const spec = fleetFixture();
    const one = decide({ spec, vantages: [v('a', { ...ALL_UP, m1: 'down' }), v('b', ALL_UP), v('c', ALL_UP)], overrides: [], now: 0 });
    assert.deepEqual(one.desired.serving, ['m0', 'm1', 'm2']);
    const two = decide({ spec, vantages: [v('a', { ...ALL_UP, m1: 'down' }), v('b', { ...ALL_UP, m1: 'down' }), v('c', ALL_UP)], overrides: [], now: 0 });
    assert.deepEqual(two.desired.serving, ['m0', 'm2']);
    assert.equal(two.health.m1.state, 'down');
  });

  it('a stale vantage (lease expired) is not counted', () => {
    const spec = fleetFixture();
    const d = decide({ spec, vantages: [v('a', { ...ALL_UP, m1: 'down' }), v('b', { ...ALL_UP, m1: 'down' }, false), v('c', ALL_UP)], overrides: [], now: 0 });
    // live: a (down) and c (up): 1 of 2 is no majority
    assert.deepEqual(d.desired.serving, ['m0', 'm1', 'm2']);
    assert.equal(d.live, 2);
  });

  it('health.quorum is a share of the live vantages: 0.3 of 3 takes one vote', () => {
    const spec = fleetFixture({ health: { ...fleetFixture().health, quorum: 0.3 } });
    const d = decide({ spec, vantages: [v('a', { ...ALL_UP, m1: 'down' }), v('b', ALL_UP), v('c', ALL_UP)], overrides: [], now: 0 });
    assert.deepEqual(d.desired.serving, ['m0', 'm2']);
    assert.equal(downNeeded(3, 0.3), 1);
    assert.equal(downNeeded(3, undefined), 2);
    assert.equal(downNeeded(4, undefined), 3);
    assert.equal(downNeeded(4, 0.5), 2);
  });

  it('fewer live vantages than health.minVantages: fail static, and it says why', () => {
    const spec = fleetFixture({ health: { ...fleetFixture().health, minVantages: 2 } });
    const d = decide({ spec, vantages: [v('a', { ...ALL_UP, m1: 'down' }), v('b', ALL_UP, false)], overrides: [], now: 0 });
    assert.match(d.failStatic ?? '', /only 1 live vantage\(s\), health.minVantages wants 2/);
    const ok = decide({ spec, vantages: [v('a', ALL_UP), v('b', ALL_UP)], overrides: [], now: 0 });
    assert.equal(ok.failStatic, undefined);
  });

  it('blocked (canaries, etcd lost) is fail static whatever the verdicts', () => {
    const d = decide({ spec: fleetFixture(), vantages: [v('a', ALL_UP)], overrides: [], now: 0, blocked: 'etcd unreachable' });
    assert.equal(d.failStatic, 'etcd unreachable');
  });

  it('one vantage is exactly today: its verdicts are the decision (property)', () => {
    const st = fc.constantFrom<MirrorState>('up', 'down', 'unknown');
    fc.assert(
      fc.property(st, st, st, (a, b, c) => {
        const own = h({ m0: a, m1: b, m2: c });
        assert.deepEqual(quorumHealth(['m0', 'm1', 'm2'], [{ name: 'x', live: true, health: own }]), own);
      }),
    );
  });

  it('a mirror leaves only with at least the quorum of live vantages against it (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ live: fc.boolean(), down: fc.boolean() }), { minLength: 1, maxLength: 7 }), fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { nil: undefined }), (vs, q) => {
        const views = vs.map((x, i) => v(`v${i}`, { m0: x.down ? 'down' : 'up' }, x.live));
        const live = vs.filter((x) => x.live);
        const downs = live.filter((x) => x.down).length;
        const state = quorumHealth(['m0'], views, q).m0.state;
        if (live.length === 0) return;
        assert.equal(state === 'down', downs >= downNeeded(live.length, q));
        if (q === undefined) assert.equal(state === 'down', downs * 2 > live.length);
      }),
    );
  });
});
