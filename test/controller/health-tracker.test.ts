import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { unknownHealth, type MirrorHealth } from '../../src/domain/health.ts';
import { hysteresisFor, inTransition, observe } from '../../src/controller/health-tracker.ts';

const S = hysteresisFor({ rise: 2, fall: 3, intervalMs: 250 });
function run(results: boolean[], start: MirrorHealth = unknownHealth(), step = 250) {
  let h = start;
  const states: string[] = [];
  results.forEach((ok, i) => {
    h = observe(h, { ok, reason: ok ? 'ok' : 'refused', latencyMs: 1, at: 1000 + i * step }, S).next;
    states.push(h.state);
  });
  return { h, states };
}

describe('health tracker (rise/fall hysteresis)', () => {
  it('goes down only after `fall` consecutive failures', () => {
    const { states } = run([true, true, false, false, false]);
    assert.deepEqual(states, ['unknown', 'up', 'up', 'up', 'down']);
  });

  it('comes back only after `rise` consecutive successes', () => {
    const { states } = run([true, true, false, false, false, true, false, true, true]);
    assert.deepEqual(states.slice(5), ['down', 'down', 'down', 'up']);
  });

  it('never leaves `up` while failures never reach `fall` in a row (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 300 }), (xs) => {
        // insert a success after every second failure in a row: runs of failures stay below fall=3
        const seq: boolean[] = [true, true];
        let run2 = 0;
        for (const x of xs) {
          if (!x && run2 === 2) { seq.push(true); run2 = 0; }
          seq.push(x);
          run2 = x ? 0 : run2 + 1;
        }
        assert.ok(run(seq).states.slice(1).every((s) => s === 'up'));
      }),
    );
  });

  it('any run of `fall` failures takes it down, and any later `rise`×penalty successes bring it back (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 100 }), (xs) => {
        const { h } = run([...xs, false, false, false]);
        assert.equal(h.state, 'down');
        const back = run(Array(S.rise * S.flapPenalty).fill(true), h);
        assert.equal(back.h.state, 'up');
      }),
    );
  });

  it('a flapping mirror stays out until it is stable for longer', () => {
    // down, up, down, up, down: three flips inside the window
    const pattern = [true, true, false, false, false, true, true, false, false, false, true, true, false, false, false];
    const { h } = run(pattern);
    assert.equal(h.state, 'down');
    assert.ok(h.recentFlips.length >= 3);
    const twoOk = run([true, true], h);
    assert.equal(twoOk.h.state, 'down', 'a flapper needs more than `rise` successes');
    const sixOk = run(Array(6).fill(true), h);
    assert.equal(sixOk.h.state, 'up');
  });
});

describe('inTransition (when a fast re-probe is due)', () => {
  /** The health after each result, and whether a fast re-probe would follow it. */
  function transitions(results: boolean[], start: MirrorHealth = unknownHealth()) {
    let h = start;
    return results.map((ok, i) => {
      const at = 1000 + i * 250;
      h = observe(h, { ok, reason: ok ? 'ok' : 'timeout', latencyMs: 1, at }, S).next;
      return `${h.state}${inTransition(h, S, at) ? '*' : ''}`;
    });
  }

  it('from the first failure of a serving mirror until it is down, or until a success resets it', () => {
    assert.deepEqual(transitions([true, true, false, false, false]), ['unknown*', 'up', 'up*', 'up*', 'down']);
    assert.deepEqual(transitions([true, true, false, true]), ['unknown*', 'up', 'up*', 'up']);
  });

  it('from the first success of a down mirror until it is up, or until a failure resets it', () => {
    assert.deepEqual(transitions([true, true, false, false, false, true, false, true, true]).slice(4), ['down', 'down*', 'down', 'down*', 'up']);
  });

  it('not on the way back up while the mirror is flapping: damping keeps its pace', () => {
    // down, up, down: three flips within the window make it flapping, so it needs rise × 3 successes
    const out = transitions([true, true, false, false, false, true, true, false, false, false, true, true, true]);
    assert.deepEqual(out, ['unknown*', 'up', 'up*', 'up*', 'down', 'down*', 'up', 'up*', 'up*', 'down', 'down', 'down', 'down']);
  });
});
