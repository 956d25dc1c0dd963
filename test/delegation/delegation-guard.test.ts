/**
 * The guard against real servers: a BIND parent zone `test` (the "registrar", written over RFC 2136 + TSIG)
 * delegating `drill.test` to a BIND child and PowerDNS. PowerDNS loses the zone: after `pruneAfter` checks its
 * nameserver is gone from the parent (asked directly); the zone comes back: restored after `restoreAfter` checks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkDomains } from '../../src/delegation/check-domains.ts';
import { DelegationGuard, type GuardEvent } from '../../src/delegation/delegation-guard.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { createRfc2136Registrar } from '../../src/registrars/rfc2136/rfc2136-registrar.ts';
import { LAB_NAMESERVERS as NS, LAB_ZONE as ZONE, startDelegationLab, type DelegationLab } from '../support/delegation-lab.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

describe('delegation guard: prune a lost provider at the parent, restore it', () => {
  let lab: DelegationLab | undefined;

  before(async () => {
    lab = await startDelegationLab();
  });
  after(async () => {
    await lab?.stop();
  });

  const parentNs = async () => {
    const r = await queryDns({ server: lab!.parent.address, name: ZONE, type: 'NS', timeoutMs: 1000 });
    assert.ok(r.ok);
    return r.authority.filter((a) => a.type === 'NS' && a.name === ZONE).map((a) => a.value).sort();
  };

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
});
