import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastGoodAt, recordDecision, settleMsFor, type LastGood } from '../../src/controller/last-good.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

describe('last good set (fail-open fallback)', () => {
  const settle = 1000;
  it('a cascade of decisions within the settle time never replaces the set that served before it', () => {
    let lg: LastGood = { good: [] };
    lg = recordDecision(lg, ['a', 'b', 'c'], false, 0, settle);
    lg = recordDecision(lg, ['b', 'c'], false, 10_000, settle);
    lg = recordDecision(lg, ['c'], false, 10_250, settle);
    assert.deepEqual(lastGoodAt(lg, 10_500, settle), ['a', 'b', 'c']);
    lg = recordDecision(lg, ['a', 'b', 'c'], true, 10_500, settle);
    assert.deepEqual(lastGoodAt(lg, 60_000, settle), ['a', 'b', 'c'], 'failing open freezes it');
  });

  it('a decision that stood for the settle time becomes the fallback', () => {
    let lg: LastGood = { good: ['a', 'b', 'c'] };
    lg = recordDecision(lg, ['c'], false, 0, settle);
    assert.deepEqual(lastGoodAt(lg, 999, settle), ['a', 'b', 'c']);
    assert.deepEqual(lastGoodAt(lg, 1000, settle), ['c']);
  });

  it('settles after the longest detection window of any mirror', () => {
    const spec = fleetFixture();
    assert.equal(settleMsFor(spec), 250 * 3 + 200);
    spec.mirrors[1] = { ...spec.mirrors[1], health: { intervalMs: 1000 } };
    assert.equal(settleMsFor(spec), 1000 * 3 + 200);
  });
});
