/**
 * The write budget as a driver wrapper: it counts the provider's write requests, not applies. Against the real
 * Hetzner driver and its contract fake (one request per RRset), through reconcileAll as the controller runs it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withWriteBudget } from '../../src/controller/budgeted-driver.ts';
import { reconcileAll } from '../../src/controller/reconcile.ts';
import { WriteBudget } from '../../src/controller/write-budget.ts';
import { DriverError } from '../../src/domain/errors.ts';
import type { ApplyReport, Change, RecordSet } from '../../src/domain/records.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { createHcloudDriver } from '../../src/drivers/hcloud/hcloud-driver.ts';
import { markerRecord } from '../../src/planner/ownership.ts';
import { startHcloudFake, type HcloudFake } from '../fakes/hcloud-fake.ts';

const TOKEN = 'hc-token-budget-0000000000000000000000';
const ZONE = 'budget.example';
const OWNER = 'budget-test';

describe('withWriteBudget (Hetzner: one request per RRset)', () => {
  let fake: HcloudFake;
  before(async () => {
    fake = await startHcloudFake({ token: TOKEN, zones: [ZONE], pageSize: 50, actionDelayMs: 1 });
  });
  after(async () => {
    await fake?.stop();
  });

  it('an apply of 5 RRsets spends 5 tokens, one per HTTP write request', async () => {
    const driver = createHcloudDriver({ name: 'hc', settings: { tokenEnv: 'T', endpoint: fake.url }, env: { T: TOKEN } }, { actionPollMs: 1, retry: { attempts: 1 } });
    // the clock stands still: no token comes back while the test runs
    const budget = new WriteBudget(12, 3_600_000, () => 0);
    // two owned A sets and their markers, plus one more owned set: 5 RRsets, all new
    const desired: RecordSet[] = [];
    for (const n of ['a', 'b']) desired.push(markerRecord(`${n}.${ZONE}`, 'A', OWNER, 60), { name: `${n}.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.1'] });
    desired.push({ name: `c.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.3'] });
    const writesBefore = fake.writes;
    const [r] = await reconcileAll({ drivers: [driver], zones: { [ZONE]: desired }, ownerId: OWNER, maxRemoveShare: 1, budgets: new Map([['hc', budget]]) });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.plan?.changes.length, 5);
    assert.equal(fake.writes - writesBefore, 5, 'Hetzner saw 5 write requests');
    assert.equal(budget.waitMs(7), 0, '7 of 12 tokens left');
    assert.ok(budget.waitMs(8) > 0, 'and not 8: 5 were spent, not 1');
  });

  it('a throttled request the driver retried inside is a request too: it is charged', async () => {
    const driver = createHcloudDriver({ name: 'hc', settings: { tokenEnv: 'T', endpoint: fake.url }, env: { T: TOKEN } }, { actionPollMs: 1, retry: { attempts: 3, baseDelayMs: 1, sleep: async () => {} } });
    const budget = new WriteBudget(12, 3_600_000, () => 0);
    fake.injectThrottle(2);
    const writesBefore = fake.writes;
    const r = await withWriteBudget(driver, budget).applyChanges(ZONE, [{ action: 'create', after: { name: `t.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.9'] } }]);
    assert.equal(fake.writes - writesBefore, 3, 'two throttled attempts and the one that went through');
    assert.equal(r.requests, 3);
    assert.equal(budget.waitMs(9), 0);
    assert.ok(budget.waitMs(10) > 0, '3 tokens spent for the 3 requests, not 1 for the apply');
  });

  it('charges requests an apply sent beyond its declaration, so the next write waits for them', async () => {
    const under: DnsDriver = {
      kind: 'stub', name: 'stub', capabilities: { granularity: 'rrset', atomicBatch: false, minTtl: 1, types: ['A'], maxBatch: 1, writeBudget: { requests: 4, perMs: 1000 } },
      listRecords: async () => [],
      writeRequests: () => 1,
      applyChanges: async (zone: string, changes: readonly Change[]): Promise<ApplyReport> => ({ provider: 'stub', zone, applied: changes.length, requests: 3 }),
      nameservers: async () => [],
    };
    const budget = new WriteBudget(4, 1000, () => 0);
    await withWriteBudget(under, budget).applyChanges('z', [{ action: 'create', after: { name: 'a.z', type: 'A', ttl: 60, values: ['192.0.2.1'] } }]);
    assert.equal(budget.waitMs(1), 0);
    assert.ok(budget.waitMs(2) > 0, '3 of 4 tokens spent');
  });

  it('a failed apply still spent its tokens (the requests went out)', async () => {
    const failing: DnsDriver = {
      kind: 'stub', name: 'stub', capabilities: { granularity: 'rrset', atomicBatch: false, minTtl: 1, types: ['A'], maxBatch: 1, writeBudget: { requests: 4, perMs: 1000 } },
      listRecords: async () => [],
      writeRequests: (_z, changes) => changes.length,
      applyChanges: async () => { throw new DriverError({ code: 'DRIVER_FAILED', provider: 'stub', zone: 'z', message: 'boom' }); },
      nameservers: async () => [],
    };
    const budget = new WriteBudget(4, 1000, () => 0);
    const c: Change = { action: 'create', after: { name: 'a.z', type: 'A', ttl: 60, values: ['192.0.2.1'] } };
    await assert.rejects(withWriteBudget(failing, budget).applyChanges('z', [c, c]), /boom/);
    assert.equal(budget.waitMs(2), 0);
    assert.ok(budget.waitMs(3) > 0);
  });
});
