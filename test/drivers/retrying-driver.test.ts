/** The retry wrapper: retry-after waited out exactly, a lockout never retried into, every attempt budgeted. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withWriteBudget } from '../../src/controller/budgeted-driver.ts';
import { WriteBudget } from '../../src/controller/write-budget.ts';
import { DriverError } from '../../src/domain/errors.ts';
import type { ApplyReport, Change } from '../../src/domain/records.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { withRetries } from '../../src/drivers/retrying-driver.ts';

const change: Change = { action: 'create', after: { name: 'a.z', type: 'A', ttl: 60, values: ['192.0.2.1'] } };

/** A driver whose applies are throttled with `retryAfterMs` the first `throttled` times. */
function throttledDriver(throttled: number, retryAfterMs: number) {
  const calls: number[] = [];
  const d: DnsDriver = {
    kind: 'stub', name: 'stub', capabilities: { granularity: 'rrset', atomicBatch: true, minTtl: 1, types: ['A'], maxBatch: 10, writeBudget: { requests: 10, perMs: 1000 } },
    listRecords: async () => [],
    writeRequests: () => 1,
    async applyChanges(zone, changes): Promise<ApplyReport> {
      calls.push(calls.length + 1);
      if (calls.length <= throttled) throw new DriverError({ code: 'DRIVER_RATE_LIMITED', provider: 'stub', zone, message: 'throttled (HTTP 429)', retryable: true, retryAfterMs });
      return { provider: 'stub', zone, applied: changes.length, requests: 1 };
    },
    nameservers: async () => [],
  };
  return { d, calls };
}

describe('withRetries', () => {
  it('honours retry-after exactly (no backoff of its own instead)', async () => {
    const { d, calls } = throttledDriver(2, 1500);
    const waits: number[] = [];
    const r = await withRetries(d, { attempts: 3, baseDelayMs: 1, sleep: async (ms) => { waits.push(ms); } }).applyChanges('z', [change]);
    assert.equal(r.applied, 1);
    assert.deepEqual(waits, [1500, 1500]);
    assert.equal(calls.length, 3);
  });

  it('never retries into a lockout: a retry-after beyond maxRetryAfterMs returns the error after one request', async () => {
    const { d, calls } = throttledDriver(1, 5 * 60_000);
    const waits: number[] = [];
    await assert.rejects(
      withRetries(d, { attempts: 5, maxRetryAfterMs: 60_000, sleep: async (ms) => { waits.push(ms); } }).applyChanges('z', [change]),
      (e: unknown) => e instanceof DriverError && e.code === 'DRIVER_RATE_LIMITED' && e.retryAfterMs === 300_000,
    );
    assert.equal(calls.length, 1, 'no second request during the lockout');
    assert.deepEqual(waits, []);
  });

  it('outside the write budget, every attempt spends tokens for the requests it sends', async () => {
    const { d } = throttledDriver(1, 10);
    const budget = new WriteBudget(5, 1000, () => 0);
    await withRetries(withWriteBudget(d, budget), { attempts: 2, sleep: async () => {} }).applyChanges('z', [change]);
    assert.equal(budget.waitMs(3), 0);
    assert.ok(budget.waitMs(4) > 0, 'two attempts, two tokens');
  });

  it('lists are retried too; errors that are not retryable are returned at once', async () => {
    let lists = 0;
    const d: DnsDriver = {
      ...throttledDriver(0, 0).d,
      listRecords: async () => {
        lists++;
        if (lists === 1) throw new DriverError({ code: 'DRIVER_FAILED', provider: 'stub', zone: 'z', message: 'HTTP 502', retryable: true });
        if (lists === 2) throw new DriverError({ code: 'DRIVER_AUTH', provider: 'stub', zone: 'z', message: 'bad token' });
        return [];
      },
    };
    await assert.rejects(withRetries(d, { attempts: 5, sleep: async () => {} }).listRecords('z'), /bad token/);
    assert.equal(lists, 2);
  });
});
