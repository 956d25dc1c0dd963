/** /healthz fails (503 with the reason) whenever nothing is published, not only when the process is dead. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MirrorSpec } from '../../src/domain/fleet-spec.ts';
import { healthVerdict } from '../../src/server/health-verdict.ts';
import { allUp, startHarness, waitFor, type Harness } from './harness.ts';

async function healthz(h: Harness): Promise<{ status: number; body: { ok: boolean; reason?: string; reasons?: string[] } }> {
  const res = await fetch(`${h.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; reason?: string } };
}

describe('/healthz', () => {
  const open: Harness[] = [];
  after(async () => {
    for (const h of open) await h.close();
  });

  it('is 200 while a provider serves the desired answer, 503 with the errors when the last reconcile failed at every provider', async () => {
    const h = await startHarness();
    open.push(h);
    await allUp(h);
    await h.controller.requestReconcile('test');
    assert.deepEqual(await healthz(h), { status: 200, body: { ok: true, cutOff: false, serving: ['m0', 'm1', 'm2'] } });

    const list = h.driver.listRecords.bind(h.driver);
    h.driver.listRecords = async () => {
      throw new Error('memdns: API unreachable');
    };
    await h.controller.requestReconcile('test');
    const bad = await healthz(h);
    assert.equal(bad.status, 503);
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.reason!, /the last reconcile failed at every provider \(memdns example\.test: .*API unreachable/);

    h.driver.listRecords = list;
    await h.controller.requestReconcile('test');
    assert.equal((await healthz(h)).status, 200);
  });

  it('is 503 when the desired answer is empty (no serving mirror has an address)', async () => {
    const mirrors: MirrorSpec[] = ['m0', 'm1'].map((name) => ({ name, provider: 'local', weight: 1, settings: {} }));
    const h = await startHarness({ spec: { mirrors } });
    open.push(h);
    const r = await waitFor('a reconcile', async () => h.controller.lastOutcome && (await healthz(h)));
    assert.equal(r.status, 503);
    assert.match(r.body.reason!, /the desired answer is empty/);
    assert.match(r.body.reason!, /no provider serves an A or AAAA record/);
  });
});

describe('healthVerdict (pure)', () => {
  const a = { name: 'example.test', type: 'A' as const, ttl: 60, values: ['192.0.2.1'] };
  const marker = { name: '_flotilla-a.example.test', type: 'TXT' as const, ttl: 60, values: ['heritage=flotilla'] };
  const outcome = (ok: boolean) => ({ reason: 't', decidedAt: 0, desired: { serving: ['m0'], failOpen: false, degraded: false, notes: [] }, reports: [{ provider: 'p', zone: 'example.test', ok, applied: 0, ms: 1, error: ok ? undefined : 'boom' }], verify: [] });
  const base = { cutOff: false, names: ['example.test'], desiredZones: { 'example.test': [marker, a] }, lastOutcome: outcome(true), providers: { p: { records: { 'example.test': [marker, a] } } } };

  it('ok when something is published', () => {
    assert.deepEqual(healthVerdict(base), { ok: true, reasons: [] });
  });
  it('names each reason', () => {
    assert.deepEqual(healthVerdict({ ...base, providers: { p: { records: { 'example.test': [marker] } } } }).reasons, ['no provider serves an A or AAAA record for the site']);
    assert.deepEqual(healthVerdict({ ...base, desiredZones: { 'example.test': [marker] } }).reasons, ['the desired answer is empty: no serving mirror has an address']);
    assert.deepEqual(healthVerdict({ ...base, lastOutcome: undefined }).reasons, ['no reconcile has finished yet']);
    assert.deepEqual(healthVerdict({ ...base, lastOutcome: outcome(false) }).reasons, ['the last reconcile failed at every provider (p example.test: boom)']);
    assert.match(healthVerdict({ ...base, cutOff: true }).reasons.join(), /cut off/);
    assert.deepEqual(healthVerdict({ ...base, failStatic: 'only 1 live vantage(s), health.minVantages wants 2' }).reasons, ['fail static: only 1 live vantage(s), health.minVantages wants 2']);
  });
  it('a follower (several controllers) is healthy while someone leads, whatever its own passes: it never reconciles', () => {
    assert.deepEqual(healthVerdict({ ...base, lastOutcome: undefined, providers: {}, follower: { leader: 'v1' } }), { ok: true, reasons: [] });
    assert.deepEqual(healthVerdict({ ...base, lastOutcome: undefined, follower: {} }).reasons, ['no leader: no controller writes DNS']);
    assert.deepEqual(healthVerdict({ ...base, follower: { leader: 'v1' }, failStatic: 'etcd lost its quorum' }).reasons, ['fail static: etcd lost its quorum']);
  });
});
