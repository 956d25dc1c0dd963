/**
 * desiredRecords looks mirrors up in Sets, never with a scan of a mirror list per mirror: the controller decides on it
 * for every turn of flips, and `names.includes` per mirror was half the CPU of a probe loop at 5,000 mirrors (its
 * decide ~65 ms, 28 ms without). Counted, not timed: Array.prototype.includes/indexOf calls stay far below the mirrors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Health } from '../../src/domain/health.ts';
import { desiredRecords } from '../../src/planner/desired-records.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

function scans(fn: () => void): number {
  const { includes, indexOf } = Array.prototype;
  let calls = 0;
  Array.prototype.includes = function (this: unknown[], ...a: Parameters<typeof includes>) { calls++; return includes.apply(this, a); };
  Array.prototype.indexOf = function (this: unknown[], ...a: Parameters<typeof indexOf>) { calls++; return indexOf.apply(this, a); };
  try {
    fn();
  } finally {
    Array.prototype.includes = includes;
    Array.prototype.indexOf = indexOf;
  }
  return calls;
}

describe('desiredRecords at scale', () => {
  it('scans no mirror list per mirror (moved, down, failing open to the last good set)', () => {
    const n = 1000;
    const spec = fleetFixture({ alternateDomains: [] }, n);
    spec.mirrors = spec.mirrors.map((m, i) => ({ ...m, ipv4: `10.0.${i >> 8}.${i & 255}` }));
    const mixed: Health = {};
    for (const [i, m] of spec.mirrors.entries()) mixed[m.name] = { state: i % 3 === 0 ? 'down' : 'up', successStreak: 1, failureStreak: 0, recentFlips: [], ...(i % 7 === 0 ? { awaitingRise: true } : {}) };
    const allDown: Health = Object.fromEntries(spec.mirrors.map((m) => [m.name, { state: 'down', successStreak: 0, failureStreak: 3, recentFlips: [] }]));
    const lastGood = spec.mirrors.filter((_, i) => i % 2 === 0).map((m) => m.name);
    for (const [what, health] of [['mixed', mixed], ['every mirror down', allDown]] as const) {
      let out: ReturnType<typeof desiredRecords> | undefined;
      const calls = scans(() => { out = desiredRecords(spec, health, [], { now: 0, lastGood }); });
      assert.ok(out!.serving.length > 0);
      assert.ok(calls < n / 10, `${what}: ${calls} list scans for ${n} mirrors`);
    }
  });
});
