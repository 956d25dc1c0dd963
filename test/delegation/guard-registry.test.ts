/** The guard reads the registry too: a hold reported over RDAP marks the domain lost (and alerts) even while the parent still lists it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainReport } from '../../src/delegation/check-domains.ts';
import { DelegationGuard, type GuardEvent } from '../../src/delegation/delegation-guard.ts';
import { classifyDelegation } from '../../src/delegation/delegation-verdict.ts';
import { registryStatusOf } from '../../src/delegation/registry-status.ts';

const expected = [{ provider: 'a', nameservers: ['ns1.a.net'] }];
function report(status: string[]): DomainReport {
  const verdict = classifyDelegation({ zone: 'example.org', expected, parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: ['ns1.a.net'], ds: [] }], soa: [{ nameserver: 'ns1.a.net', ok: true, rcode: 'NOERROR', authoritative: true, serial: 1 }] });
  return { zone: 'example.org', parents: ['p'], expected, verdict, registry: { ok: true, source: 'x', status: registryStatusOf('example.org', { objectClassName: 'domain', status }, 0, 30) } };
}

describe('delegation guard: registry status', () => {
  it('serverHold → one registry event and one lost event; cleared → recovered', async () => {
    let status = ['active'];
    const events: GuardEvent[] = [];
    const g = new DelegationGuard({ check: async () => [report(status)], registrarFor: () => undefined, settings: { pruneAfter: 2, restoreAfter: 2 }, onEvent: (e) => { events.push(e); } });
    await g.round();
    assert.equal(events.length, 0);
    status = ['server hold'];
    await g.round();
    await g.round();
    assert.deepEqual(events.map((e) => e.kind), ['registry', 'lost']);
    assert.match(events[1].message, /serverHold/);
    assert.match(String(events[1].data?.reason), /serverHold/);
    status = ['active'];
    await g.round();
    assert.deepEqual(events.map((e) => e.kind), ['registry', 'lost', 'recovered']);
  });

  it('a guard resumed from another one’s memory (SIGHUP) does not tell a lost domain again; a fresh one does', async () => {
    const events: GuardEvent[] = [];
    const onEvent = (e: GuardEvent) => { events.push(e); };
    const check = async () => [report(['server hold'])];
    const first = new DelegationGuard({ check, registrarFor: () => undefined, settings: { pruneAfter: 2, restoreAfter: 2 }, onEvent });
    await first.round();
    assert.deepEqual(events.map((e) => e.kind), ['registry', 'lost']);
    const resumed = new DelegationGuard({ check, registrarFor: () => undefined, settings: { pruneAfter: 3, restoreAfter: 3 }, onEvent, resume: first.memory() });
    await resumed.round();
    assert.deepEqual(events.map((e) => e.kind), ['registry', 'lost'], 'nothing told twice');
    const fresh = new DelegationGuard({ check, registrarFor: () => undefined, settings: { pruneAfter: 2, restoreAfter: 2 }, onEvent });
    await fresh.round();
    assert.deepEqual(events.map((e) => e.kind), ['registry', 'lost', 'registry', 'lost']);
  });
});
