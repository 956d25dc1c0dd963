/** The per-provider token bucket, on an injected clock (and node:test's mock timers for `take`): no wall time. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { WriteBudget } from '../../src/controller/write-budget.ts';

describe('WriteBudget', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => mock.timers.reset());
  /** Moves the injected clock and the mocked timers together. */
  const advance = (ms: number) => {
    now += ms;
    mock.timers.tick(ms);
  };
  /** Resolves pending promise reactions (a take() that became ready). */
  const settle = () => new Promise<void>((r) => setImmediate(r));

  it('starts full: a burst of `requests` writes goes at once, the next waits one refill interval', async () => {
    const b = new WriteBudget(4, 1000, clock);
    for (let i = 0; i < 4; i++) {
      assert.equal(b.waitMs(), 0, `write ${i + 1}`);
      await b.take();
    }
    assert.equal(b.waitMs(), 250);
    assert.equal(b.waitMs(2), 500);
  });

  it('refills at requests/perMs and never holds more than `requests` tokens', async () => {
    const b = new WriteBudget(10, 60_000, clock);
    for (let i = 0; i < 10; i++) await b.take();
    now += 6_000; // one token back
    assert.equal(b.waitMs(), 0);
    assert.equal(b.waitMs(2), 6_000);
    now += 10 * 60_000; // idle for ten windows: still only ten tokens
    assert.equal(b.waitMs(10), 0);
    assert.equal(b.waitMs(11), 6_000);
  });

  it('take() waits until the token is there, and not longer', async () => {
    const b = new WriteBudget(2, 1000, clock);
    await b.take(2);
    let done = false;
    const p = b.take().then(() => (done = true));
    await settle();
    advance(499);
    await settle();
    assert.equal(done, false, 'no token after 499 ms');
    advance(1);
    await settle();
    assert.equal(done, true, 'the token after 500 ms');
    await p;
    assert.equal(b.waitMs(), 500, 'and it was spent');
  });

  it('take() is abortable while it waits', async () => {
    const b = new WriteBudget(1, 1000, clock);
    await b.take();
    const ac = new AbortController();
    const p = b.take(1, ac.signal);
    ac.abort(new Error('stopping'));
    await assert.rejects(p, /stopping/);
    assert.equal(b.waitMs(), 1000, 'an aborted take spends nothing');
  });

  it('an unlimited budget (Infinity) never waits', async () => {
    const b = new WriteBudget(Infinity, 1000, clock);
    for (let i = 0; i < 1000; i++) await b.take();
    assert.equal(b.waitMs(1e9), 0);
  });
});
