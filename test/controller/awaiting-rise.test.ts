import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hysteresisFor, observe } from '../../src/controller/health-tracker.ts';
import type { MirrorHealth } from '../../src/domain/health.ts';

describe('a mirror moved to a new address waits for rise good probes (pure)', () => {
  const s = hysteresisFor({ rise: 3, fall: 3, intervalMs: 250 });
  it('stays awaiting through failures and fewer than rise successes; cleared when it comes up', () => {
    let h: MirrorHealth = { state: 'down', successStreak: 0, failureStreak: 0, recentFlips: [], awaitingRise: true };
    const seen: [string, boolean][] = [];
    for (const [i, ok] of [false, true, true, true].entries()) {
      h = observe(h, { ok, reason: ok ? 'ok' : 'refused', latencyMs: 1, at: 1000 + i }, s).next;
      seen.push([h.state, h.awaitingRise === true]);
    }
    assert.deepEqual(seen, [['down', true], ['down', true], ['down', true], ['up', false]]);
  });
});
