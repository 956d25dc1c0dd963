/**
 * The Route 53 Domains registrar through the official SDK against the contract fake (JSON 1.1, X-Amz-Target), and the
 * delegation guard pruning and restoring a lost provider through it: the fake "publishes" each accepted update into a
 * real BIND parent zone, as a registry would, so the guard's next check sees its own change at the parent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkDomains } from '../../src/delegation/check-domains.ts';
import { DelegationGuard, type GuardEvent } from '../../src/delegation/delegation-guard.ts';
import { DriverError } from '../../src/domain/errors.ts';
import { createRegistrar } from '../../src/registrars/registry.ts';
import { createRoute53DomainsRegistrar } from '../../src/registrars/route53domains/route53domains-registrar.ts';
import { route53DomainsRegistrarSettings } from '../../src/registrars/route53domains/route53domains-registrar-settings.ts';
import { createRfc2136Registrar } from '../../src/registrars/rfc2136/rfc2136-registrar.ts';
import { startRoute53DomainsFake, type Route53DomainsFake } from '../fakes/route53domains-fake.ts';
import { LAB_NAMESERVERS as NS, LAB_ZONE as ZONE, startDelegationLab, type DelegationLab, parentNameservers } from '../support/delegation-lab.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const KEY = 'AKIAFLOTILLATEST0001';
// the default credential chain reads these (no credentials in the stack file)
process.env.AWS_ACCESS_KEY_ID = KEY;
process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-for-the-contract-fake';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const settings = (endpoint: string) => route53DomainsRegistrarSettings.parse({ endpoint, pollInterval: '10ms', operationTimeout: '5s' });

describe('route53domains registrar: the published API through the SDK', () => {
  let fake: Route53DomainsFake;
  before(async () => {
    fake = await startRoute53DomainsFake({ accessKeyId: KEY, domains: { 'example.org': ['ns-1.awsdns-01.org', 'ns1.other.net'] }, pollsToComplete: 3 });
  });
  after(async () => fake.stop());

  it('reads the delegation with GetDomainDetail (lower case, sorted)', async () => {
    const r = createRoute53DomainsRegistrar({ name: 'r53d', settings: settings(fake.url) });
    assert.deepEqual(await r.getNameservers('Example.org.'), ['ns-1.awsdns-01.org', 'ns1.other.net']);
    assert.equal(r.maxNameservers, 6);
    await r.close?.();
  });

  it('sets nameservers with UpdateDomainNameservers and waits for GetOperationDetail to say SUCCESSFUL', async () => {
    const r = createRoute53DomainsRegistrar({ name: 'r53d', settings: settings(fake.url) });
    const before = fake.calls.length;
    await r.setNameservers('example.org', ['ns1.other.net']);
    assert.deepEqual(fake.nameservers('example.org'), ['ns1.other.net']);
    assert.deepEqual(fake.calls.slice(before), ['UpdateDomainNameservers', 'GetOperationDetail', 'GetOperationDetail', 'GetOperationDetail']);
    await r.close?.();
  });

  it('an operation ending in ERROR, an unknown domain and more than 6 names are DriverErrors', async () => {
    const r = createRoute53DomainsRegistrar({ name: 'r53d', settings: settings(fake.url) });
    fake.failNext();
    await assert.rejects(r.setNameservers('example.org', ['ns1.a.net', 'ns1.b.net']), (e) => e instanceof DriverError && /ERROR: The registry rejected/.test(e.message));
    assert.deepEqual(fake.nameservers('example.org'), ['ns1.other.net'], 'a failed operation changes nothing');
    await assert.rejects(r.getNameservers('not-mine.org'), (e) => e instanceof DriverError && /InvalidInput/.test(e.message));
    const seven = Array.from({ length: 7 }, (_, i) => `ns${i}.x.net`);
    const calls = fake.calls.length;
    await assert.rejects(r.setNameservers('example.org', seven), (e) => e instanceof DriverError && /1 to 6 nameservers/.test(e.message));
    assert.equal(fake.calls.length, calls, 'refused before any request');
    await r.close?.();
  });

  it('the registry builds it from a stack registrar (settings optional, default credential chain)', async () => {
    const r = await createRegistrar({ name: 'r53d', kind: 'route53domains', domain: 'example.org', settings: { endpoint: fake.url, pollInterval: '10ms' } }, {});
    assert.equal(r?.kind, 'route53domains');
    assert.deepEqual(await r!.getNameservers('example.org'), ['ns1.other.net']);
    await r!.close?.();
  });
});

describe('delegation guard through Route 53 Domains: prune a lost provider, restore it', () => {
  let lab: DelegationLab | undefined;
  let fake: Route53DomainsFake | undefined;
  before(async () => {
    lab = await startDelegationLab();
    const parent = createRfc2136Registrar({ name: 'registry', settings: { server: lab.parent.address, tsigKeyName: lab.parent.keyName, tsigAlgorithm: 'hmac-sha256', tsigSecretEnv: 'PARENT_TSIG', timeout: '2s', parentZone: 'test', ttl: 300 }, env: { PARENT_TSIG: lab.parent.secret } });
    fake = await startRoute53DomainsFake({ accessKeyId: KEY, domains: { [ZONE]: [...NS.bind, ...NS.pdns] }, onPublish: (d, ns) => parent.setNameservers(d, ns) });
  });
  after(async () => {
    await fake?.stop();
    await lab?.stop();
  });

  const parentNs = () => parentNameservers(lab!.parent.address, ZONE);

  it('prunes PowerDNS at Route 53 Domains after 2 lame checks and restores it after 2 good ones', async () => {
    const spec = fleetFixture({ domain: ZONE, alternateDomains: [], dnsProviders: [{ name: 'bind', kind: 'rfc2136', settings: {} }, { name: 'pdns', kind: 'powerdns', settings: {} }] });
    const delegation = { parents: [lab!.parent.address], roots: [], nameserverPort: lab!.port, nameservers: NS, rdapBootstrap: '/nonexistent.json', expiryWarnDays: 30, timeoutMs: 1000, intervalMs: 0, pruneAfter: 2, restoreAfter: 2 };
    const registrar = createRoute53DomainsRegistrar({ name: 'r53d', settings: settings(fake!.url) });
    const events: GuardEvent[] = [];
    const guard = new DelegationGuard({
      check: () => checkDomains(spec, delegation, { providerNameservers: async () => [], resolveName: async () => [] }),
      registrarFor: (z) => (z === ZONE ? registrar : undefined),
      settings: { pruneAfter: 2, restoreAfter: 2 },
      onEvent: (e) => { events.push(e); },
    });
    const both = ['ns1.bind.drill.test', 'ns1.pdns.drill.test'];
    await guard.round();
    await lab!.deletePdnsZone();
    await guard.round();
    assert.deepEqual(fake!.nameservers(ZONE), both, 'one lame check prunes nothing');
    await guard.round();
    assert.deepEqual(fake!.nameservers(ZONE), ['ns1.bind.drill.test'], 'pruned at Route 53 Domains');
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test'], 'and so at the parent');
    assert.ok(fake!.calls.includes('UpdateDomainNameservers') && fake!.calls.includes('GetOperationDetail'));
    await lab!.createPdnsZone();
    await guard.round();
    await guard.round();
    assert.deepEqual(fake!.nameservers(ZONE), both, 'restored');
    assert.deepEqual(await parentNs(), both);
    assert.deepEqual(events.filter((e) => e.kind === 'prune' || e.kind === 'restore').map((e) => e.kind), ['prune', 'restore']);
    assert.equal(events.filter((e) => e.kind === 'error').length, 0, JSON.stringify(events));
    await registrar.close?.();
  });
});
