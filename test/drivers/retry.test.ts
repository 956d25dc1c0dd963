import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import { abortableSleep, withRetry } from '../../src/drivers/retry.ts';

describe('withRetry', () => {
  it('leaves no abort listener behind: many retries on one signal stay bounded and warn nothing', async () => {
    const ac = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 5; i++) {
        let calls = 0;
        await withRetry(async () => {
          if (++calls < 6) throw new DriverError({ code: 'DRIVER_FAILED', provider: 'p', zone: 'z', message: 'transient', retryable: true, retryAfterMs: 0 });
          return calls;
        }, { attempts: 6, signal: ac.signal });
      }
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.map((w) => w.name), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an abort during the sleep rejects with the reason at once', async () => {
    const ac = new AbortController();
    const p = abortableSleep(60_000, ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    await assert.rejects(abortableSleep(10, ac.signal), /stop/);
  });
});
