import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { hedged, hedgeDelayMs, smooth, type Attempt } from '../../src/probes/hedge.ts';

const never = new AbortController().signal;
/** An attempt that stays silent until aborted, then reports so. */
const silent = (sig: AbortSignal) => new Promise<Attempt<string>>((r) => sig.addEventListener('abort', () => r({ kind: 'uncertain', reason: 'aborted' })));

describe('hedged', () => {
  it('a silent attempt gets a companion; the first answer wins and the silent one is aborted', async () => {
    const signals: AbortSignal[] = [];
    const out = await hedged<string>({
      maxAttempts: 4, hedgeAfterMs: 5, timeoutMs: 60_000, signal: never,
      attempt: (i, sig) => { signals.push(sig); return i === 0 ? silent(sig) : Promise.resolve({ kind: 'answer', value: `from ${i}` }); },
    });
    assert.deepEqual(out, { kind: 'answer', value: 'from 1', attempts: 2 });
    assert.equal(signals[0].aborted, true);
  });

  it('a certain failure (refused) settles the probe at once, without a companion', async () => {
    let started = 0;
    const out = await hedged<string>({
      maxAttempts: 4, hedgeAfterMs: 60_000, timeoutMs: 60_000, signal: never,
      attempt: () => { started++; return Promise.resolve({ kind: 'certain', reason: 'refused' }); },
    });
    assert.deepEqual(out, { kind: 'failed', reason: 'refused', certain: true, attempts: 1 });
    assert.equal(started, 1);
  });

  it('an uncertain failure (reset) starts the next attempt at once, not after hedgeAfterMs', async () => {
    const out = await hedged<string>({
      maxAttempts: 4, hedgeAfterMs: 60_000, timeoutMs: 60_000, signal: never,
      attempt: (i) => Promise.resolve(i === 0 ? { kind: 'uncertain', reason: 'reset' } : { kind: 'answer', value: 'ok' }),
    });
    assert.deepEqual(out, { kind: 'answer', value: 'ok', attempts: 2 });
  });

  it('fails with the first reason only when every attempt failed', async () => {
    const out = await hedged<string>({
      maxAttempts: 3, hedgeAfterMs: 60_000, timeoutMs: 60_000, signal: never,
      attempt: (i) => Promise.resolve({ kind: 'uncertain', reason: `reset ${i}` }),
    });
    assert.deepEqual(out, { kind: 'failed', reason: 'reset 0', certain: false, attempts: 3 });
  });

  it('a busy loop is not silence: an answer already read by the kernel when the hedge is due wins, without a companion', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    const [peer] = (await once(server, 'connection')) as [Socket];
    await once(client, 'connect');
    try {
      let started = 0;
      const p = hedged<string>({
        maxAttempts: 2, hedgeAfterMs: 10, timeoutMs: 60_000, signal: never,
        attempt: (i) => {
          started++;
          if (i > 0) return Promise.resolve({ kind: 'answer', value: 'companion' });
          return new Promise((r) => client.once('data', (b) => r({ kind: 'answer', value: String(b) })));
        },
      });
      peer.write('first'); // in the client's receive buffer at once
      const until = performance.now() + 50;
      while (performance.now() < until); // the loop stalls past hedgeAfterMs (thousands of probes' work)
      assert.deepEqual(await p, { kind: 'answer', value: 'first', attempts: 1 });
      assert.equal(started, 1);
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });

  it('times out when nothing answered by the deadline, and is aborted by the caller', async () => {
    const timeout = await hedged<string>({ maxAttempts: 2, hedgeAfterMs: 1, timeoutMs: 20, signal: never, attempt: (_i, sig) => silent(sig) });
    assert.deepEqual(timeout, { kind: 'timeout', attempts: 2 });
    const ac = new AbortController();
    const p = hedged<string>({ maxAttempts: 2, hedgeAfterMs: 60_000, timeoutMs: 60_000, signal: ac.signal, attempt: (_i, sig) => silent(sig) });
    ac.abort();
    assert.deepEqual(await p, { kind: 'aborted', attempts: 1 });
  });
});

describe('hedgeDelayMs', () => {
  it('is a quarter of the timeout before any answer, then a few smoothed round trips within [timeout/10, timeout/4]', () => {
    assert.equal(hedgeDelayMs(200), 50);
    assert.equal(hedgeDelayMs(200, 1), 20);
    assert.equal(hedgeDelayMs(200, 8), 34);
    assert.equal(hedgeDelayMs(200, 400), 50);
    assert.equal(hedgeDelayMs(2000, 5), 200);
  });
  it('smooths with weight 1/5 for the newest sample', () => {
    assert.equal(smooth(undefined, 10), 10);
    assert.equal(smooth(10, 20), 12);
  });
});
