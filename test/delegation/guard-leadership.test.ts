/**
 * With several controllers the delegation guard is the leader's: a registrar write is sent only after the fence
 * (cluster.fence()) confirms this controller still leads, and the guard loop runs rounds only while it leads. The
 * parent and the registrar are stand-ins (a lame provider `b` for as long as the test says); the guard and its plans
 * are real.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainReport } from '../../src/delegation/check-domains.ts';
import { DelegationGuard, type GuardEvent } from '../../src/delegation/delegation-guard.ts';
import { classifyDelegation } from '../../src/delegation/delegation-verdict.ts';
import { startGuardLoop } from '../../src/delegation/guard-loop.ts';
import { registryStatusOf } from '../../src/delegation/registry-status.ts';
import type { RegistrarDriver } from '../../src/registrars/registrar-driver.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { waitFor } from '../server/harness.ts';

const ZONE = 'example.org';
const expected = [{ provider: 'a', nameservers: ['ns1.a.net'] }, { provider: 'b', nameservers: ['ns1.b.net'] }];

/** The parent delegates to `parentNs`; b's nameserver answers only when `bUp`. */
function report(parentNs: string[], bUp: boolean): DomainReport {
  const verdict = classifyDelegation({
    zone: ZONE,
    expected,
    parent: [{ server: 'p', ok: true, rcode: 'NOERROR', ns: parentNs, ds: [] }],
    soa: [
      { nameserver: 'ns1.a.net', ok: true, rcode: 'NOERROR', authoritative: true, serial: 1 },
      bUp ? { nameserver: 'ns1.b.net', ok: true, rcode: 'NOERROR', authoritative: true, serial: 1 } : { nameserver: 'ns1.b.net', ok: false, error: 'timeout' },
    ],
  });
  return { zone: ZONE, parents: ['p'], expected, verdict, registry: { ok: true, source: 'x', status: registryStatusOf(ZONE, { objectClassName: 'domain', status: ['active'] }, 0, 30) } };
}

/** A registrar holding one NS set, counting its writes. */
function registrar(): RegistrarDriver & { ns: string[]; writes: number } {
  const r = {
    name: 'stand-in', kind: 'manual', maxNameservers: 13, ns: ['ns1.a.net', 'ns1.b.net'], writes: 0,
    async getNameservers() { return [...r.ns].sort(); },
    async setNameservers(_d: string, ns: readonly string[]) { r.writes++; r.ns = [...ns]; },
  };
  return r;
}

describe('delegation guard: one writer at the registrar', () => {
  it('a fence that refuses (deposed while the round ran) sends nothing and says so; the next round, fenced, prunes', async () => {
    const reg = registrar();
    const events: GuardEvent[] = [];
    let leads = false;
    const guard = new DelegationGuard({
      check: async () => [report(reg.ns, false)],
      registrarFor: () => reg,
      settings: { pruneAfter: 2, restoreAfter: 2 },
      onEvent: (e) => { events.push(e); },
      fence: async () => { if (!leads) throw new Error('not the leader: the leader key no longer holds revision 7'); },
    });
    await guard.round();
    await guard.round(); // b lame twice: a prune is due
    assert.equal(reg.writes, 0, 'nothing sent without the fence');
    assert.deepEqual(reg.ns, ['ns1.a.net', 'ns1.b.net']);
    const refused = events.filter((e) => e.kind === 'error');
    assert.equal(refused.length, 1, JSON.stringify(events));
    assert.match(refused[0].message, /did not prune b at stand-in: not the leader/);

    leads = true;
    await guard.round();
    assert.equal(reg.writes, 1);
    assert.deepEqual(reg.ns, ['ns1.a.net']);
    assert.deepEqual(events.filter((e) => e.kind === 'prune').map((e) => e.data?.pruned), [['b']]);
  });

  it('the loop runs rounds only while this controller leads, and a controller that led and lost it starts afresh', async () => {
    const spec = fleetFixture({ domain: ZONE, alternateDomains: [] });
    // a tiny interval: the loop's pace, not the test's
    spec.delegation = { parents: ['p'], roots: [], nameserverPort: 53, nameservers: {}, rdapBootstrap: '/nonexistent.json', expiryWarnDays: 30, timeoutMs: 50, intervalMs: 20, pruneAfter: 2, restoreAfter: 2 };
    let leads = false;
    let rounds = 0;
    const events: GuardEvent[] = [];
    // the registry holds the domain: "lost", told once by a guard that remembers telling it
    const held = (): DomainReport => {
      const r = report(['ns1.a.net', 'ns1.b.net'], true);
      return { ...r, registry: { ok: true, source: 'x', status: registryStatusOf(ZONE, { objectClassName: 'domain', status: ['server hold'] }, 0, 30) } };
    };
    const loop = await startGuardLoop(spec, {
      drivers: [],
      env: {},
      onEvent: (e) => { events.push(e); },
      role: { isLeader: () => leads, fence: async () => undefined },
      check: async () => { rounds++; return [held()]; },
    });
    assert.ok(loop);
    const lost = () => events.filter((e) => e.kind === 'lost').length;
    try {
      // a follower: no round, so nothing checked and nothing told, for many loop periods
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(rounds, 0);
      assert.deepEqual(events, []);

      leads = true;
      await waitFor('the new leader takes up the watch and tells the loss', () => lost() === 1, 5_000);
      const r1 = rounds;
      await waitFor('more rounds while it leads', () => rounds >= r1 + 3, 5_000);
      assert.equal(lost(), 1, 'told once while it leads');

      leads = false;
      await new Promise((r) => setTimeout(r, 100)); // the round in flight, if any, ends
      const r2 = rounds;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(rounds, r2, 'a follower runs no round');

      // led, lost the lead, leads again: another leader may have told "recovered" meanwhile, so it tells again
      leads = true;
      await waitFor('told again after leading again', () => lost() === 2, 5_000);
    } finally {
      await loop!.stop();
    }
  });
});
