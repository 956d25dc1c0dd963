import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTROLLER_SAVE_INTERVAL_MS, controllerRunning, emptyState } from '../../src/domain/state.ts';

describe('controllerRunning: is anyone acting on this state?', () => {
  const now = 1_000_000;
  it('a heartbeat within two save intervals means a running controller', () => {
    assert.equal(controllerRunning({ ...emptyState(), controller: { at: now - 2 * CONTROLLER_SAVE_INTERVAL_MS, host: 'h', pid: 1 } }, now), true);
  });
  it('an older heartbeat, or none (a stopped controller clears it), means nobody', () => {
    assert.equal(controllerRunning({ ...emptyState(), controller: { at: now - 2 * CONTROLLER_SAVE_INTERVAL_MS - 1, host: 'h', pid: 1 } }, now), false);
    assert.equal(controllerRunning({ ...emptyState(), updatedAt: now }, now), false, 'a fresh save by a responder is not a controller');
  });
});
