import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { CONTROLLER_SAVE_INTERVAL_MS, emptyState } from '../../src/domain/state.ts';
import { runningController } from '../../src/cli/running-controller.ts';

describe('runningController: a fresh heartbeat whose process lives', () => {
  const now = 1_000_000;
  const at = (pid: number, host = hostname(), age = 0) => ({ ...emptyState(), controller: { at: now - age, host, pid } });
  it('a live process on this host (this test) with a fresh heartbeat runs', () => {
    assert.deepEqual(runningController(at(process.pid), now), { at: now, host: hostname(), pid: process.pid });
  });
  it('a dead pid on this host (a SIGKILLed daemon) does not, however fresh its heartbeat', () => {
    const dead = spawnSync('true').pid!;
    assert.equal(runningController(at(dead), now), undefined);
  });
  it('another host\'s pid cannot be checked: the heartbeat decides', () => {
    assert.ok(runningController(at(2 ** 22 - 1, 'elsewhere.example'), now));
  });
  it('a stale heartbeat does not, however alive the pid', () => {
    assert.equal(runningController(at(process.pid, hostname(), 2 * CONTROLLER_SAVE_INTERVAL_MS + 1), now), undefined);
    assert.equal(runningController(emptyState(), now), undefined);
  });
});
