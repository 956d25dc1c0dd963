import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Controller } from '../../src/controller/controller.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { emptyState } from '../../src/domain/state.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'flotilla-controller-state-'));
const build = (store: FileStateStore) => new Controller({ spec: fleetFixture({}, 2), store, drivers: [], query: async () => ({ ok: true, values: [] }) });

describe('Controller and the state it did not mean to change', () => {
  it('stop() of a controller that never started saves nothing and audits nothing', async () => {
    const dir = tmp();
    const store = new FileStateStore(dir);
    const st = emptyState();
    st.health.m0 = { state: 'down', successStreak: 0, failureStreak: 5, recentFlips: [], lastReason: 'refused' };
    st.lastGood = ['m1'];
    st.providers.embedded = { verifiedServing: 'm1' };
    assert.equal(await store.save(st, 0), true);
    const before = readFileSync(join(dir, 'state.json'), 'utf8');
    const c = build(store);
    await c.stop();
    await c.stop();
    assert.equal(readFileSync(join(dir, 'state.json'), 'utf8'), before);
    assert.deepEqual(readdirSync(dir).sort(), ['state.json']);
  });

  it('audit() emits only events that were appended; strict callers get the error', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'audit.log')); // appends fail
    const c = build(new FileStateStore(dir));
    const heard: AuditEvent[] = [];
    c.on('audit', (e) => heard.push(e));
    assert.equal(await c.audit({ kind: 'override', message: 'drain m0' }), false);
    await assert.rejects(c.audit({ kind: 'override', message: 'drain m1' }, { strict: true }), /EISDIR/);
    assert.equal(heard.length, 0);
    const ok = build(new FileStateStore(tmp()));
    ok.on('audit', (e) => heard.push(e));
    assert.equal(await ok.audit({ kind: 'override', message: 'drain m0' }), true);
    assert.deepEqual(heard.map((e) => e.message), ['drain m0']);
  });
});
