import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedOf } from '../../src/delegation/check-domains.ts';
import { classifyDelegation, type DelegationObservation } from '../../src/delegation/delegation-verdict.ts';
import { planDelegation } from '../../src/delegation/prune-plan.ts';

const expected = [
  { provider: 'bind', nameservers: ['ns1.bind.test', 'ns2.bind.test'] },
  { provider: 'pdns', nameservers: ['ns1.pdns.test'] },
];
const allNs = ['ns1.bind.test', 'ns2.bind.test', 'ns1.pdns.test'];
const goodSoa = allNs.map((n) => ({ nameserver: n, address: '127.0.3.1:53', ok: true, rcode: 'NOERROR', authoritative: true, serial: 7 }));
function obs(over: Partial<DelegationObservation> = {}): DelegationObservation {
  return { zone: 'drill.test', expected, parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: allNs, ds: [] }], soa: goodSoa, ...over };
}

describe('classifyDelegation', () => {
  it('healthy when the parent lists ours and every provider answers', () => {
    const v = classifyDelegation(obs());
    assert.equal(v.state, 'healthy');
    assert.equal(v.lost, false);
    assert.deepEqual(v.providers.map((p) => p.state), ['answering', 'answering']);
  });

  it('a provider whose every nameserver refuses is lame; the domain is not lost', () => {
    const soa = goodSoa.map((s) => (s.nameserver === 'ns1.pdns.test' ? { ...s, rcode: 'REFUSED', authoritative: false, serial: undefined } : s));
    const v = classifyDelegation(obs({ soa }));
    assert.equal(v.state, 'lame-provider');
    assert.equal(v.lost, false);
    assert.equal(v.providers.find((p) => p.provider === 'pdns')!.state, 'lame');
    assert.match(v.reasons.join(), /pdns.*REFUSED/);
  });

  it('one of two nameservers of a provider down keeps the provider answering', () => {
    const soa = goodSoa.map((s) => (s.nameserver === 'ns2.bind.test' ? { ...s, ok: false, error: 'timeout' } : s));
    const v = classifyDelegation(obs({ soa }));
    assert.equal(v.state, 'healthy');
    assert.equal(v.providers[0].nameservers.find((n) => n.name === 'ns2.bind.test')!.answering, false);
  });

  it('not authoritative, SERVFAIL and a stale serial are lame', () => {
    for (const bad of [{ authoritative: false }, { rcode: 'SERVFAIL' }, { serial: 6 }]) {
      const soa = goodSoa.map((s) => (s.nameserver === 'ns2.bind.test' ? { ...s, ...bad } : s));
      const v = classifyDelegation(obs({ soa }));
      const ns2 = v.providers[0].nameservers.find((n) => n.name === 'ns2.bind.test')!;
      assert.equal(ns2.answering, false, JSON.stringify(bad));
    }
    // serial arithmetic wraps (RFC 1982): 1 is ahead of 4294967295
    const wrap = goodSoa.map((s) => (s.nameserver === 'ns1.bind.test' ? { ...s, serial: 4294967295 } : s.nameserver === 'ns2.bind.test' ? { ...s, serial: 1 } : s));
    const v = classifyDelegation(obs({ soa: wrap }));
    assert.equal(v.providers[0].nameservers.find((n) => n.name === 'ns1.bind.test')!.answering, false);
    assert.equal(v.providers[0].nameservers.find((n) => n.name === 'ns2.bind.test')!.answering, true);
  });

  it('NXDOMAIN or no NS at the parent: delegation gone, domain lost', () => {
    for (const p of [{ rcode: 'NXDOMAIN', ns: [] }, { rcode: 'NOERROR', ns: [] }]) {
      const v = classifyDelegation(obs({ parent: [{ server: 'p', ok: true, ds: [], ...p }] }));
      assert.equal(v.state, 'delegation-gone');
      assert.equal(v.lost, true);
    }
  });

  it('NS pointed at someone else: delegation changed and lost; an extra foreign NS beside ours is changed, not lost', () => {
    const taken = classifyDelegation(obs({ parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: ['ns.seized.example'], ds: [] }] }));
    assert.equal(taken.state, 'delegation-changed');
    assert.equal(taken.lost, true);
    assert.deepEqual(taken.foreignNs, ['ns.seized.example']);
    const added = classifyDelegation(obs({ parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: [...allNs, 'ns.other.example'], ds: [] }] }));
    assert.equal(added.state, 'delegation-changed');
    assert.equal(added.lost, false);
  });

  it('no parent answer concludes nothing (never "lost" because our own path is cut)', () => {
    const v = classifyDelegation(obs({ parent: [{ server: 'p', ok: false, error: 'timeout' }] }));
    assert.equal(v.state, 'parent-unreachable');
    assert.equal(v.lost, false);
  });

  it('DS checked only when expected', () => {
    assert.equal(classifyDelegation(obs()).state, 'healthy');
    const v = classifyDelegation(obs({ expectedDs: ['123 13 2 ABCD'] }));
    assert.equal(v.state, 'ds-mismatch');
    const ok = classifyDelegation(obs({ expectedDs: ['123 13 2 abcd'], parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: allNs, ds: ['123 13 2 ABCD'] }] }));
    assert.equal(ok.state, 'healthy');
  });

  it('a pruned provider (ours, not at the parent) is not-delegated, and listed as missing', () => {
    const v = classifyDelegation(obs({ parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: ['ns1.bind.test', 'ns2.bind.test'], ds: [] }] }));
    assert.equal(v.state, 'healthy');
    assert.deepEqual(v.missingNs, ['ns1.pdns.test']);
    assert.equal(v.providers[1].state, 'not-delegated');
  });

  it('each provider is expected with its delegated subset only; its other names are ours, never foreign', () => {
    // pdns has two names and delegates one (delegatedNameservers: 1): the parent lists exactly what pulumi up delegates
    const exp = [expectedOf('bind', 2, ['ns2.bind.test', 'ns1.bind.test']), expectedOf('pdns', 1, ['NS2.pdns.test.', 'ns1.pdns.test'])];
    assert.deepEqual(exp[1], { provider: 'pdns', nameservers: ['ns1.pdns.test'], others: ['ns2.pdns.test'] });
    const v = classifyDelegation(obs({ expected: exp }));
    assert.equal(v.state, 'healthy');
    assert.deepEqual(v.missingNs, [], 'the non-delegated name is not "ours not listed"');
    assert.deepEqual(v.providers[1].nameservers.map((n) => n.name), ['ns1.pdns.test']);
    assert.equal(planDelegation(v, exp, {}, { pruneAfter: 1, restoreAfter: 1 }).change, false);
    // a parent still listing the other name too (written before the subset rule): ours, not foreign; aligned to the subset
    const wide = classifyDelegation(obs({ expected: exp, parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: [...allNs, 'ns2.pdns.test'], ds: [] }], soa: [...goodSoa, { ...goodSoa[0], nameserver: 'ns2.pdns.test' }] }));
    assert.deepEqual(wide.foreignNs, []);
    assert.equal(wide.state, 'healthy');
    assert.ok(wide.providers[1].nameservers.some((n) => n.name === 'ns2.pdns.test' && n.delegated));
    const plan = planDelegation(wide, exp, {}, { pruneAfter: 1, restoreAfter: 1 });
    assert.deepEqual([plan.change, plan.nameservers], [true, allNs.slice().sort()]);
  });

  it('every provider lame: lost', () => {
    const v = classifyDelegation(obs({ soa: goodSoa.map((s) => ({ ...s, rcode: 'SERVFAIL' })) }));
    assert.equal(v.lost, true);
    assert.equal(v.state, 'lame-provider');
  });

  it('two providers listing one nameserver name both get their verdict', () => {
    const shared = [{ provider: 'a', nameservers: ['ns.shared.test'] }, { provider: 'b', nameservers: ['ns.shared.test'] }];
    const v = classifyDelegation({ zone: 'drill.test', expected: shared, parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: ['ns.shared.test'], ds: [] }], soa: [{ nameserver: 'ns.shared.test', ok: true, rcode: 'NOERROR', authoritative: true, serial: 1 }] });
    assert.deepEqual(v.providers.map((p) => [p.provider, p.state, p.nameservers.length]), [['a', 'answering', 1], ['b', 'answering', 1]]);
  });
});
