import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fenceAhead } from '../../src/controller/fence-ahead.ts';
import { reconcileAll } from '../../src/controller/reconcile.ts';
import { FencedError } from '../../src/state/fenced-error.ts';
import { MemoryDriver } from '../server/harness.ts';

describe('fenceAhead: the leadership proof asked beside the list', () => {
  it('asks at once, before any write wants it, and writes within the age reuse that one answer', async () => {
    let clock = 0;
    let asks = 0;
    const before = fenceAhead(async () => { asks++; }, 250, () => clock);
    assert.equal(asks, 1, 'asked when the pass starts, not when the first write comes');
    clock = 100;
    await before();
    clock = 250;
    await before();
    assert.equal(asks, 1);
  });

  it('a write later than the age asks again, and waits for that answer', async () => {
    let clock = 0;
    const answers: Array<() => void> = [];
    let asks = 0;
    const before = fenceAhead(() => { asks++; return asks === 1 ? Promise.resolve() : new Promise<void>((r) => answers.push(r)); }, 250, () => clock);
    clock = 251;
    let done = false;
    const w = before().then(() => { done = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(asks, 2, 'a stale proof is asked again');
    assert.equal(done, false, 'the write waits for the fresh answer');
    answers[0]();
    await w;
    assert.equal(done, true);
  });

  it('a refusal refuses every write of the pass; an unused refusal is no unhandled rejection', async () => {
    const before = fenceAhead(async () => { throw new Error('NOT_LEADER'); }, 250, () => 0);
    await assert.rejects(before(), /NOT_LEADER/);
    await assert.rejects(before(), /NOT_LEADER/);
    fenceAhead(async () => { throw new Error('nobody asks'); }, 250);
    await new Promise((r) => setImmediate(r));
  });

  it('the write waits for the answer asked ahead when it has not come yet', async () => {
    let answer!: () => void;
    let done = false;
    const before = fenceAhead(() => new Promise<void>((r) => { answer = r; }), 250, () => 0);
    const w = before().then(() => { done = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    answer();
    await w;
    assert.equal(done, true);
  });
});

describe('reconcileAll with fenceAheadMs', () => {
  const rec = (zone: string) => [{ name: `www.${zone}`, type: 'A' as const, ttl: 60, values: ['127.0.0.11'] }];
  const zones = { 'a.example': rec('a.example'), 'b.example': rec('b.example') };

  it('asks the fence once for the pass, while the lists are still running', async () => {
    const d = new MemoryDriver('mem');
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const list = d.listRecords.bind(d);
    d.listRecords = async (zone) => { await gate; return list(zone); };
    let asks = 0;
    const pass = reconcileAll({ drivers: [d], zones, ownerId: 'o', maxRemoveShare: 1, beforeWrite: async () => { asks++; }, fenceAheadMs: 250 });
    await new Promise((r) => setImmediate(r));
    assert.equal(asks, 1, 'asked before any list has answered');
    release();
    const reports = await pass;
    assert.ok(reports.every((r) => r.ok && r.applied === 1), JSON.stringify(reports));
    assert.equal(asks, 1, 'both zones wrote on that one answer');
  });

  it('a refusal asked ahead sends no write at any zone', async () => {
    const d = new MemoryDriver('mem');
    const reports = await reconcileAll({ drivers: [d], zones, ownerId: 'o', maxRemoveShare: 1, beforeWrite: async () => { throw new FencedError('write', 'not the leader'); }, fenceAheadMs: 250 });
    assert.deepEqual(reports.map((r) => r.errorCode), ['NOT_LEADER', 'NOT_LEADER']);
    assert.equal(d.zones.size, 0, 'nothing written');
  });
});
