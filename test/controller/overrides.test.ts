import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { StateError, UsageError } from '../../src/domain/errors.ts';
import { unknownHealth } from '../../src/domain/health.ts';
import { emptyState, type State } from '../../src/domain/state.ts';
import { applyOverrideCommand, OverrideConflictError, runOverrideCommand } from '../../src/controller/overrides.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
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

describe('runOverrideCommand: the one path of the CLI and the HTTP API', () => {
  const tmpStore = () => new FileStateStore(mkdtempSync(join(tmpdir(), 'flotilla-override-')));
  const saveHealth = async (store: FileStateStore, down: string[]) => {
    const st = await store.load();
    assert.equal(await store.save({ ...st, health: stateWith(down).health }, st.version), true);
  };

  it('audits first: when the audit append fails nothing is saved and the error says so', async () => {
    const store = tmpStore();
    await saveHealth(store, []);
    const before = readFileSync(join(store.dir, 'state.json'), 'utf8');
    const failing = async () => { throw new Error('EISDIR: illegal operation on a directory'); };
    await assert.rejects(
      runOverrideCommand({ store, spec, audit: failing }, { kind: 'drain', mirror: 'm1', reason: 'r', author: 'ana' }),
      (e: unknown) => e instanceof StateError && e.code === 'STATE_UNAVAILABLE' && /audit entry could not be written, so nothing was changed/.test(e.message) && /EISDIR/.test(e.message),
    );
    assert.equal(readFileSync(join(store.dir, 'state.json'), 'utf8'), before);
  });

  it('appends one event naming the saved override, then saves only the overrides', async () => {
    const store = tmpStore();
    await saveHealth(store, []);
    const events: AuditEvent[] = [];
    const r = await runOverrideCommand({ store, spec, audit: async (e) => { events.push(e); }, auditData: { via: 'test' }, now: () => NOW }, { kind: 'drain', mirror: 'm1', reason: 'disk', author: 'ana' });
    const st = await store.load();
    assert.equal(st.version, 2);
    assert.deepEqual(st.overrides.map((o) => o.id), [r.override!.id]);
    assert.equal(events.length, 1);
    assert.deepEqual([events[0].at, events[0].actor, events[0].data?.id, events[0].data?.via], [NOW, 'ana', r.override!.id, 'test']);
    assert.deepEqual(st.health, stateWith([]).health, 'health untouched');
  });

  it('a command that changes nothing writes nothing and audits nothing', async () => {
    const store = tmpStore();
    await saveHealth(store, []);
    const events: AuditEvent[] = [];
    const r = await runOverrideCommand({ store, spec, audit: async (e) => { events.push(e); } }, { kind: 'undrain', mirror: 'm1', author: 'ana' });
    assert.equal(r.changed, false);
    assert.equal((await store.load()).version, 1);
    assert.deepEqual(events, []);
  });

  it('judges the last-serving rule by live health when the caller has it (the daemon), else by the saved health', async () => {
    const store = tmpStore();
    await saveHealth(store, ['m0', 'm2']); // saved: m1 is the last one up
    const audit = async () => undefined;
    const cmd = { kind: 'drain', mirror: 'm1', reason: 'r', author: 'a' } as const;
    await assert.rejects(runOverrideCommand({ store, spec, audit }, cmd), OverrideConflictError);
    // the daemon has since seen m0 and m2 come back: its live health allows the drain
    const live = () => ({ health: stateWith([]).health, lastGood: ['m0', 'm1', 'm2'] });
    const r = await runOverrideCommand({ store, spec, audit, live }, cmd);
    assert.equal(r.changed, true);
    const st = await store.load();
    assert.deepEqual(st.health, stateWith(['m0', 'm2']).health, 'live health is judged, never written by this path');
    // and the other way round: live health says m1 is the last one, the saved one does not
    const store2 = tmpStore();
    await saveHealth(store2, []);
    await assert.rejects(runOverrideCommand({ store: store2, spec, audit, live: () => ({ health: stateWith(['m0', 'm2']).health, lastGood: [] }) }, cmd), OverrideConflictError);
  });

  it('retries a lost race with the same override id and one audit event; a command no longer valid is audited as not applied', async () => {
    const store = tmpStore();
    await saveHealth(store, ['m0']);
    const events: AuditEvent[] = [];
    // another responder drains m2 between our load and our save: m1 becomes the last serving mirror
    let raced = false;
    const racing: FileStateStore = Object.create(store);
    racing.save = async (next, v) => {
      if (!raced) {
        raced = true;
        await runOverrideCommand({ store, spec, audit: async () => undefined }, { kind: 'drain', mirror: 'm2', reason: 'other', author: 'bob' });
      }
      return store.save(next, v);
    };
    await assert.rejects(runOverrideCommand({ store: racing, spec, audit: async (e) => { events.push(e); } }, { kind: 'drain', mirror: 'm1', reason: 'r', author: 'ana' }), OverrideConflictError);
    assert.deepEqual(events.map((e) => e.data?.applied), [undefined, false]);
    assert.match(events[1].message, /NOT applied: .*last serving mirror/);
    assert.equal(events[0].data?.id, events[1].data?.id);
    assert.deepEqual((await store.load()).overrides.map((o) => o.mirror), ['m2']);
  });
});
