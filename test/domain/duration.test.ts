import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/domain/duration.ts';

describe('parseDuration', () => {
  it('reads units and sums parts', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('-1s'), undefined);
    assert.equal(parseDuration('soon'), undefined);
  });

  it('refuses spans that overflow to Infinity or that no clock can add to now', () => {
    assert.equal(parseDuration('9'.repeat(400) + 'd'), undefined);
    assert.equal(parseDuration('999999999d'), undefined);
    assert.equal(parseDuration(`${MAX_DURATION_MS + 1}ms`), undefined);
    const max = parseDuration('36500d')!;
    assert.equal(max, MAX_DURATION_MS);
    // an override `--for 36500d` still gives a date every page and command can print
    assert.doesNotThrow(() => new Date(Date.now() + max).toISOString());
    assert.equal(formatDuration(max), '36500d');
  });
});
