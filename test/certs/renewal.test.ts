import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffMs, nextAttemptAt, renewDecision } from '../../src/certs/renewal.ts';

const DAY = 86_400_000;
const cert = { notBefore: 0, notAfter: 90 * DAY };

describe('renewal decision', () => {
  it('renews a 90-day certificate at two thirds of its lifetime (day 60), not before', () => {
    const early = renewDecision(cert, 59 * DAY, 2 / 3);
    assert.equal(early.renew, false);
    assert.equal(!early.renew && early.nextCheckAt, 60 * DAY);
    assert.equal(renewDecision(cert, 60 * DAY, 2 / 3).renew, true);
  });
  it('renews at once without a certificate or after expiry', () => {
    assert.deepEqual(renewDecision(undefined, 0), { renew: true, reason: 'no certificate yet' });
    assert.equal(renewDecision(cert, 91 * DAY).renew, true);
  });
  it('honours a share of the lifetime from the stack and an ARI window that opens earlier', () => {
    assert.equal(renewDecision(cert, 46 * DAY, 0.5).renew, true);
    assert.equal(renewDecision(cert, 40 * DAY, 2 / 3, { start: 39 * DAY, end: 41 * DAY }).renew, true);
    const r = renewDecision(cert, 10 * DAY, 2 / 3, { start: 20 * DAY, end: 21 * DAY });
    assert.equal(!r.renew && r.nextCheckAt, 20 * DAY);
  });
});

describe('backoff', () => {
  it('doubles from 5 minutes to at most 6 hours', () => {
    assert.equal(backoffMs(0), 0);
    assert.equal(backoffMs(1), BACKOFF_BASE_MS);
    assert.equal(backoffMs(2), 2 * BACKOFF_BASE_MS);
    assert.equal(backoffMs(4), 8 * BACKOFF_BASE_MS);
    assert.equal(backoffMs(100), BACKOFF_MAX_MS);
    assert.equal(nextAttemptAt(3, 1000), 1000 + 4 * BACKOFF_BASE_MS);
  });
});
