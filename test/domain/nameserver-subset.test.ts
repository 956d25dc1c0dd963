import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { planDelegation } from '../../src/delegation/prune-plan.ts';
import { classifyDelegation } from '../../src/delegation/delegation-verdict.ts';
import { nameserverSubset } from '../../src/domain/nameserver-subset.ts';

describe('nameserverSubset (a registrar limit such as Route 53 Domains\' 6)', () => {
  it('takes one per provider first, round-robin, deterministic', () => {
    const lists = [
      { provider: 'route53', nameservers: ['ns-4.awsdns.net', 'ns-1.awsdns.com', 'ns-2.awsdns.org', 'ns-3.awsdns.co.uk'] },
      { provider: 'cloudflare', nameservers: ['ada.ns.cloudflare.com.', 'bob.ns.cloudflare.com'] },
      { provider: 'hetzner', nameservers: ['hydrogen.ns.hetzner.com', 'oxygen.ns.hetzner.com', 'helium.ns.hetzner.de'] },
    ];
    assert.deepEqual(nameserverSubset(lists, 3), ['ada.ns.cloudflare.com', 'helium.ns.hetzner.de', 'ns-1.awsdns.com']);
    assert.deepEqual(nameserverSubset(lists, 6), ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com', 'helium.ns.hetzner.de', 'hydrogen.ns.hetzner.com', 'ns-1.awsdns.com', 'ns-2.awsdns.org']);
    assert.deepEqual(nameserverSubset([...lists].reverse(), 6), nameserverSubset(lists, 6), 'order of the input does not matter');
  });

  it('property: never more than max, every provider kept when max allows, a subset of the input', () => {
    const name = fc.stringMatching(/^[a-z]{1,6}\.test$/);
    fc.assert(fc.property(fc.array(fc.record({ provider: fc.stringMatching(/^[a-z]{1,5}$/), nameservers: fc.array(name, { minLength: 1, maxLength: 5 }) }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 13 }), (raw, max) => {
      const lists = raw.filter((l, i) => raw.findIndex((x) => x.provider === l.provider) === i);
      const out = nameserverSubset(lists, max);
      const all = new Set(lists.flatMap((l) => l.nameservers));
      assert.ok(out.length <= max && out.every((n) => all.has(n)));
      assert.equal(out.length, Math.min(max, all.size));
    }));
  });

  it('the guard plans the same subset when the registrar takes fewer names than the providers have', () => {
    const expected = [{ provider: 'a', nameservers: ['ns1.a.test', 'ns2.a.test', 'ns3.a.test'] }, { provider: 'b', nameservers: ['ns1.b.test', 'ns2.b.test'] }];
    const listed = ['ns1.a.test', 'ns1.b.test', 'ns2.a.test'];
    const v = classifyDelegation({ zone: 'z.test', expected, parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: listed, ds: [] }], soa: expected.flatMap((p) => p.nameservers.map((n) => ({ nameserver: n, ok: true, rcode: 'NOERROR', authoritative: true, serial: 1 }))) });
    const p = planDelegation(v, expected, {}, { pruneAfter: 2, restoreAfter: 2, maxNameservers: 3 });
    assert.equal(p.change, false, 'the subset at the parent is what the plan wants: no write, no flapping');
    const wide = planDelegation(v, expected, {}, { pruneAfter: 2, restoreAfter: 2 });
    assert.equal(wide.change, true);
  });
});
