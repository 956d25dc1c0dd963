/**
 * The guard against real servers: a BIND parent zone `test` (the "registrar", written over RFC 2136 + TSIG)
 * delegating `drill.test` to a BIND child and PowerDNS. PowerDNS loses the zone: after `pruneAfter` checks its
 * nameserver is gone from the parent (asked directly); the zone comes back: restored after `restoreAfter` checks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkDomains } from '../../src/delegation/check-domains.ts';
import { DelegationGuard, type GuardEvent } from '../../src/delegation/delegation-guard.ts';
import { classifyDelegation } from '../../src/delegation/delegation-verdict.ts';
import { createRfc2136Registrar } from '../../src/registrars/rfc2136/rfc2136-registrar.ts';
import { LAB_NAMESERVERS as NS, LAB_ZONE as ZONE, startDelegationLab, type DelegationLab, parentNameservers } from '../support/delegation-lab.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

describe('delegation guard: prune a lost provider at the parent, restore it', () => {
  let lab: DelegationLab | undefined;

  before(async () => {
    lab = await startDelegationLab();
  });
  after(async () => {
    await lab?.stop();
  });

  const parentNs = () => parentNameservers(lab!.parent.address, ZONE);

  it('prunes after 2 lame checks, never earlier; restores after 2 good ones; each transition told once', async () => {
    const spec = fleetFixture({ domain: ZONE, alternateDomains: [], dnsProviders: [{ name: 'bind', kind: 'rfc2136', settings: {} }, { name: 'pdns', kind: 'powerdns', settings: {} }] });
    const delegation = { parents: [lab!.parent.address], roots: [], nameserverPort: lab!.port, nameservers: NS, rdapBootstrap: '/nonexistent.json', expiryWarnDays: 30, timeoutMs: 1000, intervalMs: 0, pruneAfter: 2, restoreAfter: 2 };
    const registrar = createRfc2136Registrar({ name: 'parent', settings: { server: lab!.parent.address, tsigKeyName: lab!.parent.keyName, tsigAlgorithm: 'hmac-sha256', tsigSecretEnv: 'PARENT_TSIG', timeout: '2s', parentZone: 'test', ttl: 300 }, env: { PARENT_TSIG: lab!.parent.secret } });
    const events: GuardEvent[] = [];
    const guard = new DelegationGuard({
      check: () => checkDomains(spec, delegation, { providerNameservers: async () => [], resolveName: async () => [] }),
      registrarFor: (z) => (z === ZONE ? registrar : undefined),
      settings: { pruneAfter: 2, restoreAfter: 2 },
      onEvent: (e) => { events.push(e); },
    });
    const both = ['ns1.bind.drill.test', 'ns1.pdns.drill.test'];
    await guard.round();
    assert.deepEqual(await parentNs(), both);

    await lab!.deletePdnsZone();
    await guard.round();
    assert.deepEqual(await parentNs(), both, 'one lame check prunes nothing');
    await guard.round();
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test'], 'pruned at the parent after two');
    assert.deepEqual(events.filter((e) => e.kind === 'prune').map((e) => e.data?.pruned), [['pdns']]);
    // the pruned provider is still watched (its nameserver is asked though no longer delegated)
    await guard.round();
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test']);

    await lab!.createPdnsZone();
    await guard.round();
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test'], 'one good check restores nothing');
    await guard.round();
    assert.deepEqual(await parentNs(), both, 'restored after two');
    assert.equal(events.filter((e) => e.kind === 'restore').length, 1);
    assert.equal(events.filter((e) => e.kind === 'error').length, 0, JSON.stringify(events));
  });

  it('expects and writes only each provider\'s delegated subset (the names pulumi up delegates), never all its names', async () => {
    // pdns has two names and delegates one (delegatedNameservers: 1): the parent lists ns1 only, which is right
    const spec = fleetFixture({ domain: ZONE, alternateDomains: [], dnsProviders: [{ name: 'bind', kind: 'rfc2136', settings: {} }, { name: 'pdns', kind: 'powerdns', settings: {}, delegatedNameservers: 1 }] });
    const nameservers = { ...NS, pdns: ['ns2.pdns.drill.test', 'ns1.pdns.drill.test'] };
    const delegation = { parents: [lab!.parent.address], roots: [], nameserverPort: lab!.port, nameservers, rdapBootstrap: '/nonexistent.json', expiryWarnDays: 30, timeoutMs: 1000, intervalMs: 0, pruneAfter: 1, restoreAfter: 1 };
    const registrar = createRfc2136Registrar({ name: 'parent', settings: { server: lab!.parent.address, tsigKeyName: lab!.parent.keyName, tsigAlgorithm: 'hmac-sha256', tsigSecretEnv: 'PARENT_TSIG', timeout: '2s', parentZone: 'test', ttl: 300 }, env: { PARENT_TSIG: lab!.parent.secret } });
    const events: GuardEvent[] = [];
    const guard = new DelegationGuard({
      check: () => checkDomains(spec, delegation, { providerNameservers: async () => [], resolveName: async () => [] }),
      registrarFor: (z) => (z === ZONE ? registrar : undefined),
      settings: { pruneAfter: 1, restoreAfter: 1 },
      onEvent: (e) => { events.push(e); },
    });
    const both = ['ns1.bind.drill.test', 'ns1.pdns.drill.test'];
    const r = await guard.round();
    assert.deepEqual(r.reports[0].verdict.missingNs, [], 'ns2.pdns is not delegated, so not missing');
    assert.equal(r.plans[0].change, false);
    assert.deepEqual(await parentNs(), both, 'nothing written');

    await lab!.deletePdnsZone();
    await guard.round();
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test']);
    await lab!.createPdnsZone();
    await guard.round();
    assert.deepEqual(await parentNs(), both, 'restored with its delegated subset only');
    assert.deepEqual(events.filter((e) => e.kind === 'prune' || e.kind === 'restore').map((e) => e.data?.nameservers), [['ns1.bind.drill.test'], both]);
    await registrar.close?.();
  });
});

describe('delegation guard: never more names than the registrar takes', () => {
  it('a plan over the registrar\'s limit is held and nothing is written', async () => {
    const expected = [{ provider: 'a', nameservers: ['ns1.a.test', 'ns2.a.test'] }, { provider: 'b', nameservers: ['ns1.b.test'] }];
    const names = expected.flatMap((p) => p.nameservers);
    const verdict = classifyDelegation({ zone: 'z.test', expected, parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: ['ns1.a.test', 'ns1.b.test'], ds: [] }], soa: names.map((n) => ({ nameserver: n, ok: true, rcode: 'NOERROR', authoritative: true, serial: 1 })) });
    const writes: string[][] = [];
    const registrar = { name: 'small', kind: 'fake', maxNameservers: 2, getNameservers: async () => ['ns1.a.test', 'ns1.b.test'], setNameservers: async (_: string, ns: readonly string[]) => void writes.push([...ns]) };
    const events: GuardEvent[] = [];
    const guard = new DelegationGuard({
      check: async () => [{ zone: 'z.test', parents: ['p'], expected, verdict, registry: { ok: false, domain: 'z.test', error: 'none' } }],
      registrarFor: () => registrar,
      settings: { pruneAfter: 1, restoreAfter: 1 },
      onEvent: (e) => { events.push(e); },
    });
    const r = await guard.round();
    assert.deepEqual(r.plans[0].nameservers, names.slice().sort(), 'the plan wants all three');
    assert.deepEqual(writes, []);
    assert.ok(events.some((e) => e.kind === 'held' && /small accepts at most 2 nameservers \(3 planned\)/.test(e.message)), JSON.stringify(events));
  });
});
