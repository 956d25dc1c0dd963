import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { delegatedCount, delegatedSubset, normalizeNameservers } from '../../src/domain/delegated-nameservers.ts';

describe('delegatedSubset (the one rule: pulumi up, the delegation guard and flotilla domains)', () => {
  it('the first n of the sorted, normalised list; fewer names give all of them; default n is 2', () => {
    assert.deepEqual(delegatedSubset(['ns-4.awsdns.net', 'NS-1.awsdns.com.', 'ns-2.awsdns.org', 'ns-3.awsdns.co.uk'], 2), ['ns-1.awsdns.com', 'ns-2.awsdns.org']);
    assert.deepEqual(delegatedSubset(['b.test', 'a.test.'], 5), ['a.test', 'b.test']);
    assert.deepEqual(normalizeNameservers(['B.ns.example.', 'a.ns.example', 'b.ns.example', '']), ['a.ns.example', 'b.ns.example']);
    assert.equal(delegatedCount({}), 2);
    assert.equal(delegatedCount({ delegatedNameservers: 3 }), 3);
  });

  it('property: never more than n per provider, so a delegation never lists more than the providers\' total (what the stack schema holds within the registrar\'s limit); order-independent', () => {
    const name = fc.stringMatching(/^[a-z]{1,6}\.test\.?$/);
    fc.assert(
      fc.property(fc.array(fc.record({ names: fc.array(name, { maxLength: 8 }), n: fc.integer({ min: 1, max: 13 }) }), { minLength: 1, maxLength: 6 }), (providers) => {
        const delegation = new Set(providers.flatMap((p) => delegatedSubset(p.names, p.n)));
        assert.ok(delegation.size <= providers.reduce((t, p) => t + p.n, 0));
        for (const p of providers) {
          const sub = delegatedSubset(p.names, p.n);
          assert.ok(sub.length <= p.n);
          assert.deepEqual(delegatedSubset([...p.names].reverse(), p.n), sub);
          assert.ok(sub.every((s) => normalizeNameservers(p.names).includes(s)));
        }
      }),
    );
  });
});
