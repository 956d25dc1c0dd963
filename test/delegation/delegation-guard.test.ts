/**
 * The guard against real servers: a BIND parent zone `test` (the "registrar", written over RFC 2136 + TSIG)
 * delegating `drill.test` to a BIND child and PowerDNS. PowerDNS loses the zone: after `pruneAfter` checks its
 * nameserver is gone from the parent (asked directly); the zone comes back: restored after `restoreAfter` checks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkDomains } from '../../src/delegation/check-domains.ts';
import { DelegationGuard, type GuardEvent } from '../../src/delegation/delegation-guard.ts';
import { queryDns } from '../../src/probes/dns-client.ts';
import { createRfc2136Registrar } from '../../src/registrars/rfc2136/rfc2136-registrar.ts';
import { startBind, type DnsServerHandle } from '../support/bind-server.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { startPdnsServer, type PdnsServer } from '../support/pdns-server.ts';
import { freePort } from '../support/ports.ts';

const ZONE = 'drill.test';
const NS = { bind: ['ns1.bind.drill.test'], pdns: ['ns1.pdns.drill.test'] };

describe('delegation guard: prune a lost provider at the parent, restore it', () => {
  let parent: DnsServerHandle | undefined;
  let child: DnsServerHandle | undefined;
  let pdns: PdnsServer | undefined;
  let port = 0;

  before(async () => {
    port = await freePort('127.0.0.1');
    const started = await Promise.allSettled([
      startBind({ zones: ['test'], extraRecords: { test: ['drill NS ns1.bind.drill.test.', 'drill NS ns1.pdns.drill.test.', 'ns1.bind.drill A 127.0.0.1', 'ns1.pdns.drill A 127.0.3.2'] } }),
      // in-bailiwick nameserver names have address records in the zone itself, as they must in the world
      startBind({ zones: [ZONE], port, extraRecords: { [ZONE]: ['ns1.bind A 127.0.0.1', 'ns1.pdns A 127.0.3.2'] } }),
      startPdnsServer({ zones: [ZONE], dnsAddress: '127.0.3.2', dnsPort: port }),
    ]);
    parent = started[0].status === 'fulfilled' ? started[0].value : undefined;
    child = started[1].status === 'fulfilled' ? started[1].value : undefined;
    pdns = started[2].status === 'fulfilled' ? started[2].value : undefined;
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  });
  after(async () => {
    await Promise.all([parent?.stop(), child?.stop(), pdns?.stop()]);
  });

  const parentNs = async () => {
    const r = await queryDns({ server: parent!.address, name: ZONE, type: 'NS', timeoutMs: 1000 });
    assert.ok(r.ok);
    return r.authority.filter((a) => a.type === 'NS' && a.name === ZONE).map((a) => a.value).sort();
  };

  it('prunes after 2 lame checks, never earlier; restores after 2 good ones; each transition told once', async () => {
    const spec = fleetFixture({ domain: ZONE, alternateDomains: [], dnsProviders: [{ name: 'bind', kind: 'rfc2136', settings: {} }, { name: 'pdns', kind: 'powerdns', settings: {} }] });
    const delegation = { parents: [parent!.address], roots: [], nameserverPort: port, nameservers: NS, rdapBootstrap: '/nonexistent.json', expiryWarnDays: 30, timeoutMs: 1000, intervalMs: 0, pruneAfter: 2, restoreAfter: 2 };
    const registrar = createRfc2136Registrar({ name: 'parent', settings: { server: parent!.address, tsigKeyName: parent!.keyName, tsigAlgorithm: 'hmac-sha256', tsigSecretEnv: 'PARENT_TSIG', timeout: '2s', parentZone: 'test', ttl: 300 }, env: { PARENT_TSIG: parent!.secret } });
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

    const del = await fetch(`${pdns!.apiUrl}/api/v1/servers/${pdns!.serverId}/zones/${ZONE}.`, { method: 'DELETE', headers: { 'X-API-Key': pdns!.apiKey } });
    assert.equal(del.status, 204);
    await guard.round();
    assert.deepEqual(await parentNs(), both, 'one lame check prunes nothing');
    await guard.round();
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test'], 'pruned at the parent after two');
    assert.deepEqual(events.filter((e) => e.kind === 'prune').map((e) => e.data?.pruned), [['pdns']]);
    // the pruned provider is still watched (its nameserver is asked though no longer delegated)
    await guard.round();
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test']);

    const back = await fetch(`${pdns!.apiUrl}/api/v1/servers/${pdns!.serverId}/zones`, {
      method: 'POST',
      headers: { 'X-API-Key': pdns!.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${ZONE}.`, kind: 'Native', nameservers: ['ns1.pdns.drill.test.'] }),
    });
    assert.equal(back.status, 201);
    await guard.round();
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test'], 'one good check restores nothing');
    await guard.round();
    assert.deepEqual(await parentNs(), both, 'restored after two');
    assert.equal(events.filter((e) => e.kind === 'restore').length, 1);
    assert.equal(events.filter((e) => e.kind === 'error').length, 0, JSON.stringify(events));
  });
});
