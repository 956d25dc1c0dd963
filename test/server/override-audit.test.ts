import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allUp, auth, post, startHarness, type Harness } from './harness.ts';

/** POST /api/drain runs the one override path: audit first, or not at all. */
describe('HTTP API: an override whose audit entry cannot be written', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await allUp(h);
  });
  after(() => h?.close());

  it('does not take effect: 503 with a clear message, nothing saved, nothing emitted, the answer unchanged', async () => {
    const serving = h.controller.desired().serving;
    const version = (await h.store.load()).version;
    const heard = h.audit.length;
    // the next audit segment is a directory: every append fails from now on (permission bits do not stop root)
    const next = Math.max(...readdirSync(h.store.dir).map((n) => (n === 'audit.log' ? 0 : Number(/^audit\.(\d+)\.log$/.exec(n)?.[1] ?? -1)))) + 1;
    mkdirSync(join(h.store.dir, `audit.${String(next).padStart(6, '0')}.log`));
    const r = await post(h, '/api/drain', { mirror: 'm1', reason: 'disk full' }, auth(h, 'ana'));
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.match(String(r.body.error ?? r.body.message), /audit entry could not be written, so nothing was changed/);
    const st = await h.store.load();
    assert.deepEqual(st.overrides, []);
    assert.ok(st.version >= version);
    assert.deepEqual(h.controller.overrides, []);
    assert.deepEqual(h.controller.desired().serving, serving);
    assert.ok(!h.audit.slice(heard).some((e) => e.kind === 'override'), 'no override event was emitted');
  });
});
