import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fastIntervalFor, fastRecheckAt, initialOffsets, nextDue } from '../../src/probes/probe-schedule.ts';

/** A deterministic uniform [0,1) source from a fast-check seed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

const interval = fc.integer({ min: 1, max: 3_600_000 });
const jitter = fc.double({ min: 0, max: 0.5, noNaN: true });
const start = fc.integer({ min: 0, max: 2 ** 41 });

describe('nextDue', () => {
  it('does not drift: after 10,000 intervals the slot is exactly start + 10,000 * interval, jitter bounded all along', () => {
    fc.assert(
      fc.property(start, interval, jitter, fc.integer(), (first, intervalMs, j, seed) => {
        const random = seeded(seed);
        let lastDue = first;
        let lastAt = -Infinity;
        for (let i = 1; i <= 10_000; i++) {
          const { due, at } = nextDue({ lastDue, intervalMs, jitter: j, random });
          assert.equal(due, first + i * intervalMs);
          assert.ok(at >= due && (at < due + j * intervalMs || at === due), `at ${at} due ${due}`);
          assert.ok(at > lastAt || intervalMs * (1 - j) < 1, 'runs stay in order');
          lastAt = at;
          lastDue = due;
        }
        assert.equal(lastDue, first + 10_000 * intervalMs);
      }),
      { numRuns: 30 },
    );
  });

  it('bounds the jitter for any random value, including the edges 0 and just below 1', () => {
    fc.assert(
      fc.property(start, interval, jitter, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (lastDue, intervalMs, j, r) => {
        const { due, at } = nextDue({ lastDue, intervalMs, jitter: j, random: () => r });
        assert.equal(due, lastDue + intervalMs);
        assert.ok(at - due >= 0 && at - due <= Math.floor(j * intervalMs));
        assert.ok(Number.isInteger(at));
      }),
    );
  });

  it('spreads probes: with jitter the run times take many values within the window', () => {
    const random = seeded(7);
    const offsets = new Set<number>();
    for (let i = 0; i < 1000; i++) offsets.add(nextDue({ lastDue: 0, intervalMs: 1000, jitter: 0.2, random }).at - 1000);
    assert.ok(offsets.size > 150, `only ${offsets.size} distinct offsets`);
    assert.ok(Math.max(...offsets) < 200 && Math.min(...offsets) >= 0);
    assert.equal(nextDue({ lastDue: 0, intervalMs: 1000, jitter: 0, random }).at, 1000);
  });

  it('is anchored to the schedule, not to when the probe finished: a stall skips missed slots and stays on the grid', () => {
    fc.assert(
      fc.property(start, interval, fc.integer({ min: 0, max: 10_000_000 }), jitter, (lastDue, intervalMs, late, j) => {
        const now = lastDue + intervalMs + late;
        const { due, at } = nextDue({ lastDue, intervalMs, jitter: j, random: () => 0.5, now });
        assert.equal((due - lastDue) % intervalMs, 0);
        assert.ok(due >= now && due - intervalMs < now, `due ${due} now ${now}`);
        assert.ok(at >= due);
      }),
    );
    // Not late: the very next slot, whatever `now` is before it.
    assert.equal(nextDue({ lastDue: 1000, intervalMs: 250, jitter: 0, random: () => 0, now: 1100 }).due, 1250);
  });

  it('rejects a non-positive interval', () => {
    assert.throws(() => nextDue({ lastDue: 0, intervalMs: 0, jitter: 0, random: Math.random }), RangeError);
  });
});

describe('initialOffsets', () => {
  it('spreads n mirrors evenly over the first interval', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), interval, (n, intervalMs) => {
        const o = initialOffsets(n, intervalMs);
        assert.equal(o.length, n);
        for (let i = 0; i < n; i++) {
          assert.ok(o[i] >= 0 && o[i] < intervalMs);
          if (i > 0) assert.ok(o[i] >= o[i - 1]);
          // evenly: each offset within 1 ms of its ideal share
          assert.ok(Math.abs(o[i] - (i * intervalMs) / n) < 1);
        }
      }),
      { numRuns: 50 },
    );
    assert.deepEqual(initialOffsets(4, 1000), [0, 250, 500, 750]);
  });
});

describe('fast re-probe', () => {
  it('defaults to a fifth of the interval, at least 50 ms, never longer than the interval', () => {
    assert.equal(fastIntervalFor(250), 50);
    assert.equal(fastIntervalFor(10_000), 2_000);
    assert.equal(fastIntervalFor(100), 50);
    assert.equal(fastIntervalFor(30), 30);
    assert.equal(fastIntervalFor(2_000, 100), 100);
    assert.equal(fastIntervalFor(2_000, 5_000), 2_000);
  });

  it('after a passed probe: fastInterval after it started, at once when that is past, not when the slot comes first', () => {
    const ok = { lastOk: true, fastIntervalMs: 50 };
    assert.equal(fastRecheckAt({ ...ok, lastStart: 1000, lastEnd: 1005, now: 1010, nextSlotAt: 1250 }), 1050);
    // a slow first answer (a resumed mirror): the second probe follows it at once, not 50 ms after it
    assert.equal(fastRecheckAt({ ...ok, lastStart: 1000, lastEnd: 1150, now: 1150, nextSlotAt: 1250 }), 1150);
    assert.equal(fastRecheckAt({ ...ok, lastStart: 1000, lastEnd: 1200, now: 1200, nextSlotAt: 1250 }), 1200);
    assert.equal(fastRecheckAt({ ...ok, lastStart: 1000, lastEnd: 1005, now: 1010, nextSlotAt: 1040 }), undefined);
  });

  it('after a failed probe: fastInterval after it ENDED, so a timeout is not followed at once by another probe', () => {
    const failed = { lastOk: false, fastIntervalMs: 50 };
    // refused within a millisecond: 50 ms after the end, as good as after the start
    assert.equal(fastRecheckAt({ ...failed, lastStart: 1000, lastEnd: 1001, now: 1001, nextSlotAt: 1250 }), 1051);
    // timed out after 200 ms: 50 ms after the end, not at once
    assert.equal(fastRecheckAt({ ...failed, lastStart: 1000, lastEnd: 1200, now: 1200, nextSlotAt: 1300 }), 1250);
    // the loop ran late after the end: at once
    assert.equal(fastRecheckAt({ ...failed, lastStart: 1000, lastEnd: 1200, now: 1280, nextSlotAt: 1300 }), 1280);
    // the regular slot (1250 + jitter) comes first or together: no fast re-probe, the slot probes
    assert.equal(fastRecheckAt({ ...failed, lastStart: 1000, lastEnd: 1200, now: 1200, nextSlotAt: 1250 }), undefined);
    assert.equal(fastRecheckAt({ ...failed, lastStart: 1000, lastEnd: 1220, now: 1220, nextSlotAt: 1260 }), undefined);
  });

  it('three timeouts in a row on the default settings take as long as at the normal pace (250 ms slots, 200 ms timeout)', () => {
    // fast re-probes after failures, slots every 250 ms without jitter: each probe times out after 200 ms
    const intervalMs = 250;
    const fastIntervalMs = fastIntervalFor(intervalMs);
    const timeoutMs = 200;
    let start = 0;
    let slotAt = 0;
    const starts = [start];
    for (let i = 0; i < 2; i++) {
      const end = start + timeoutMs;
      while (slotAt <= start) slotAt += intervalMs;
      start = fastRecheckAt({ lastStart: start, lastEnd: end, lastOk: false, fastIntervalMs, now: end, nextSlotAt: slotAt }) ?? slotAt;
      starts.push(start);
    }
    assert.deepEqual(starts, [0, 250, 500]);
  });

  it('is never before now, never before fastInterval after the start, and only before the next slot (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 0, max: 10_000 }), fc.boolean(),
        (lastStart, took, late, fastIntervalMs, slotAfter, lastOk) => {
          const lastEnd = lastStart + took;
          const now = lastEnd + late;
          const nextSlotAt = lastStart + slotAfter;
          const at = fastRecheckAt({ lastStart, lastEnd, lastOk, fastIntervalMs, now, nextSlotAt });
          const wanted = Math.max(now, (lastOk ? lastStart : lastEnd) + fastIntervalMs);
          if (wanted >= nextSlotAt) assert.equal(at, undefined);
          else {
            assert.equal(at, wanted);
            assert.ok(at! >= now && at! >= lastStart + fastIntervalMs && at! < nextSlotAt);
            if (!lastOk) assert.ok(at! - lastEnd >= fastIntervalMs, 'a failed probe is followed fastInterval after its end');
          }
        },
      ),
    );
  });
});
