import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classifyDelegation, type DelegationObservation } from '../../src/delegation/delegation-verdict.ts';
import { planDelegation, type ProviderStreak } from '../../src/delegation/prune-plan.ts';

const expected = [
  { provider: 'a', nameservers: ['ns1.a.test', 'ns2.a.test'] },
  { provider: 'b', nameservers: ['ns1.b.test'] },
  { provider: 'c', nameservers: ['ns1.c.test'] },
];
const all = expected.flatMap((p) => p.nameservers);
const settings = { pruneAfter: 3, restoreAfter: 2 };

/** A verdict where the parent lists `listed` and the providers in `up` answer. */
function verdict(listed: string[], up: Set<string>) {
  const o: DelegationObservation = {
    zone: 'z.test',
    expected,
    parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: listed, ds: [] }],
    soa: expected.flatMap((p) => p.nameservers.map((n) => ({ nameserver: n, ok: true, rcode: up.has(p.provider) ? 'NOERROR' : 'REFUSED', authoritative: up.has(p.provider), serial: up.has(p.provider) ? 1 : undefined }))),
  };
  return classifyDelegation(o);
}

describe('planDelegation', () => {
  it('prunes a lame provider after pruneAfter checks, restores it after restoreAfter good ones', () => {
    let streaks: Record<string, ProviderStreak> = {};
    let listed = all;
    const up = new Set(['a', 'c']);
    for (let i = 1; i <= 3; i++) {
      const p = planDelegation(verdict(listed, up), expected, streaks, settings);
      streaks = p.streaks;
      if (i < 3) assert.equal(p.change, false, `check ${i}`);
      else {
        assert.equal(p.change, true);
        assert.deepEqual(p.pruned, ['b']);
        assert.deepEqual(p.nameservers, ['ns1.a.test', 'ns1.c.test', 'ns2.a.test']);
        listed = p.nameservers;
      }
    }
    up.add('b');
    const r1 = planDelegation(verdict(listed, up), expected, streaks, settings);
    assert.equal(r1.change, false);
    const r2 = planDelegation(verdict(listed, up), expected, r1.streaks, settings);
    assert.deepEqual(r2.restored, ['b']);
    assert.deepEqual(r2.nameservers, [...all].sort());
  });

  it('a flapping provider (lame, good, lame ...) is never pruned', () => {
    let streaks: Record<string, ProviderStreak> = {};
    for (let i = 0; i < 20; i++) {
      const p = planDelegation(verdict(all, new Set(i % 2 ? ['a', 'b', 'c'] : ['a', 'c'])), expected, streaks, settings);
      assert.equal(p.change, false);
      streaks = p.streaks;
    }
  });

  it('never leaves fewer than one answering provider listed, and never touches a foreign or unreachable delegation', () => {
    let streaks: Record<string, ProviderStreak> = {};
    for (let i = 0; i < 5; i++) {
      const p = planDelegation(verdict(all, new Set()), expected, streaks, settings);
      assert.equal(p.change, false);
      streaks = p.streaks;
      if (i >= 2) assert.match(p.held ?? '', /at least one provider stays listed/);
    }
    const foreign = planDelegation(verdict([...all, 'ns.evil.example'], new Set(['a'])), expected, {}, { pruneAfter: 1, restoreAfter: 1 });
    assert.equal(foreign.change, false);
    assert.match(foreign.held!, /not ours/);
    const gone = planDelegation(verdict([], new Set(['a'])), expected, {}, { pruneAfter: 1, restoreAfter: 1 });
    assert.equal(gone.change, false);
    assert.match(gone.held!, /no delegation/);
    const v = verdict(all, new Set(['a']));
    const unreachable = planDelegation({ ...v, state: 'parent-unreachable' }, expected, {}, { pruneAfter: 1, restoreAfter: 1 });
    assert.equal(unreachable.change, false);
  });

  it('property: after any sequence of checks the planned set is ours, non-empty, and holds an answering provider whenever one exists', () => {
    const names = ['a', 'b', 'c'];
    fc.assert(
      fc.property(fc.array(fc.subarray(names), { minLength: 1, maxLength: 30 }), (ups) => {
        let streaks: Record<string, ProviderStreak> = {};
        let listed = all;
        for (const u of ups) {
          const up = new Set(u);
          const p = planDelegation(verdict(listed, up), expected, streaks, settings);
          assert.ok(p.nameservers.length > 0);
          assert.ok(p.nameservers.every((n) => all.includes(n)));
          const listedProviders = expected.filter((e) => e.nameservers.some((n) => p.nameservers.includes(n))).map((e) => e.provider);
          if (up.size > 0 && listed.length > 0) assert.ok(listedProviders.some((x) => up.has(x)) || !p.change, 'a change never drops the last answering provider');
          // hysteresis: a provider is pruned only after pruneAfter lame checks in a row
          for (const x of p.pruned) assert.ok(p.streaks[x].lame >= settings.pruneAfter);
          streaks = p.streaks;
          listed = p.nameservers;
        }
      }),
    );
  });
});
