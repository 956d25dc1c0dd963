import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/domain/errors.ts';
import { unknownHealth } from '../../src/domain/health.ts';
import { emptyState, type State } from '../../src/domain/state.ts';
import { applyOverrideCommand, OverrideConflictError } from '../../src/controller/overrides.ts';
import { servingMirrors } from '../../src/planner/desired-records.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const spec = fleetFixture({}, 3);
const NOW = 1_700_000_000_000;

function stateWith(down: string[] = []): State {
  const s = emptyState();
  for (const m of spec.mirrors) s.health[m.name] = { ...unknownHealth(), state: down.includes(m.name) ? 'down' : 'up', lastReason: down.includes(m.name) ? 'refused' : 'ok' };
  return s;
}

describe('applyOverrideCommand', () => {
  it('drains with an expiry, an author and an audit line, without mutating the input', () => {
    const st = stateWith();
    const r = applyOverrideCommand(st, spec, { kind: 'drain', mirror: 'm1', reason: 'disk full', author: 'ana', for: '2h', id: 'x1' }, NOW);
    assert.equal(st.overrides.length, 0);
    assert.deepEqual(r.override, { id: 'x1', kind: 'drain', mirror: 'm1', reason: 'disk full', author: 'ana', createdAt: NOW, expiresAt: NOW + 7_200_000 });
    assert.equal(r.changed, true);
    assert.equal(r.audit?.kind, 'override');
    assert.equal(r.audit?.actor, 'ana');
    assert.deepEqual(servingMirrors(spec, r.state.health, r.state.overrides, { now: NOW }).serving, ['m0', 'm2']);
    assert.match(r.message, /drained m1 for 2h/);
  });

  it('rejects an unknown mirror listing the known ones, a missing reason and a bad duration', () => {
    assert.throws(() => applyOverrideCommand(stateWith(), spec, { kind: 'drain', mirror: 'nope', reason: 'r', author: 'a' }, NOW), (e: Error) => e instanceof UsageError && /m0, m1, m2/.test(e.message));
    assert.throws(() => applyOverrideCommand(stateWith(), spec, { kind: 'drain', mirror: 'm0', reason: '  ', author: 'a' }, NOW), /needs a reason/);
    assert.throws(() => applyOverrideCommand(stateWith(), spec, { kind: 'drain', mirror: 'm0', reason: 'r', author: 'a', for: 'soon' }, NOW), /not a duration/);
  });

  it('refuses to drain the last serving mirror unless forced', () => {
    const st = stateWith(['m0', 'm2']);
    assert.throws(() => applyOverrideCommand(st, spec, { kind: 'drain', mirror: 'm1', reason: 'r', author: 'a' }, NOW), (e: Error) => e instanceof OverrideConflictError && /last serving mirror/.test(e.message));
    const forced = applyOverrideCommand(st, spec, { kind: 'drain', mirror: 'm1', reason: 'r', author: 'a', force: true }, NOW);
    assert.equal(forced.state.overrides.length, 1);
    // draining a mirror that is already down is allowed: it does not change the answer
    assert.equal(applyOverrideCommand(st, spec, { kind: 'drain', mirror: 'm0', reason: 'r', author: 'a' }, NOW).changed, true);
  });

  it('refuses a failover to a mirror that is down unless forced; a new failover replaces the old one', () => {
    const st = stateWith(['m2']);
    assert.throws(() => applyOverrideCommand(st, spec, { kind: 'failover', mirror: 'm2', reason: 'r', author: 'a' }, NOW), OverrideConflictError);
    const a = applyOverrideCommand(st, spec, { kind: 'failover', mirror: 'm0', reason: 'r', author: 'a', id: 'f1' }, NOW);
    const b = applyOverrideCommand(a.state, spec, { kind: 'failover', mirror: 'm1', reason: 'r2', author: 'b', id: 'f2' }, NOW + 1);
    assert.deepEqual(b.state.overrides.map((o) => o.id), ['f2']);
    assert.deepEqual(b.removed.map((o) => o.id), ['f1']);
  });

  it('undrain removes drains only; undrain of a mirror not drained changes nothing; clear removes everything', () => {
    let st = stateWith();
    st = applyOverrideCommand(st, spec, { kind: 'drain', mirror: 'm1', reason: 'r', author: 'a', id: 'd1' }, NOW).state;
    st = applyOverrideCommand(st, spec, { kind: 'failover', mirror: 'm1', reason: 'r', author: 'a', id: 'f1' }, NOW).state;
    const none = applyOverrideCommand(st, spec, { kind: 'undrain', mirror: 'm0', author: 'a' }, NOW);
    assert.equal(none.changed, false);
    assert.equal(none.audit, undefined);
    const u = applyOverrideCommand(st, spec, { kind: 'undrain', mirror: 'm1', author: 'a' }, NOW);
    assert.deepEqual(u.state.overrides.map((o) => o.id), ['f1']);
    const c = applyOverrideCommand(st, spec, { kind: 'clear', mirror: 'm1', author: 'a' }, NOW);
    assert.deepEqual(c.state.overrides, []);
  });

  it('expired overrides are neither replaced nor removed (the controller audits their expiry)', () => {
    let st = stateWith();
    st = applyOverrideCommand(st, spec, { kind: 'drain', mirror: 'm1', reason: 'r', author: 'a', for: '1s', id: 'old' }, NOW).state;
    const r = applyOverrideCommand(st, spec, { kind: 'undrain', mirror: 'm1', author: 'a' }, NOW + 5000);
    assert.equal(r.changed, false);
  });
});
