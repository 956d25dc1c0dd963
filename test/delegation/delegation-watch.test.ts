/**
 * The delegation watch against real servers: BIND as the parent zone `test` delegating `drill.test` (with glue) to a
 * second BIND (127.0.0.1) and PowerDNS (127.0.3.2), both on one port of their own, as a lab stands in for port 53.
 * Each case changes the world for real (a zone deleted at PowerDNS, the delegation removed or re-pointed at the
 * parent with nsupdate) and checks what the watch concludes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { classifyDelegation } from '../../src/delegation/delegation-verdict.ts';
import { observeDelegation } from '../../src/delegation/delegation-watch.ts';
import { findParentServers } from '../../src/delegation/find-parent.ts';
import { nsupdate, type DnsServerHandle } from '../support/bind-server.ts';
import { LAB_NAMESERVERS, LAB_ZONE as ZONE, startDelegationLab, type DelegationLab } from '../support/delegation-lab.ts';
import { freePort } from '../support/ports.ts';

const expected = Object.entries(LAB_NAMESERVERS).map(([provider, nameservers]) => ({ provider, nameservers }));

describe('delegation watch (real parent and child servers)', () => {
  let lab: DelegationLab | undefined;
  let parent: DnsServerHandle;
  let port: number;

  before(async () => {
    lab = await startDelegationLab();
    ({ parent, port } = lab);
  });
  after(async () => {
    await lab?.stop();
  });

  const look = async () => classifyDelegation(await observeDelegation({ zone: ZONE, expected, parents: [parent.address], nameserverPort: port, timeoutMs: 1000, resolveName: async () => [] }));

  it('healthy: the parent lists both providers (glue used), both answer with authority', async () => {
    const v = await look();
    assert.equal(v.state, 'healthy', v.reasons.join('; '));
    assert.deepEqual(v.parentNs, ['ns1.bind.drill.test', 'ns1.pdns.drill.test']);
    assert.deepEqual(v.providers.map((p) => [p.provider, p.state]), [['bind', 'answering'], ['pdns', 'answering']]);
    assert.equal(v.providers[1].nameservers[0].address, `127.0.3.2:${port}`);
  });

  it('finds the parent by asking from the roots (a dead root is skipped; here the parent is its own root)', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const r = await findParentServers(ZONE, [dead, parent.address], { timeoutMs: 300, resolveName: async () => [] });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.ok && r.servers, [dead, parent.address]);
    const none = await findParentServers(ZONE, [dead], { timeoutMs: 300, resolveName: async () => [] });
    assert.equal(none.ok, false);
  });

  it('a provider deletes the zone: that provider is lame, the domain is not lost', async () => {
    await lab!.deletePdnsZone();
    const v = await look();
    assert.equal(v.state, 'lame-provider', v.reasons.join('; '));
    assert.equal(v.lost, false);
    assert.equal(v.providers.find((p) => p.provider === 'pdns')!.state, 'lame');
    assert.match(v.reasons.join(), /pdns: no delegated nameserver answers/);
  });

  it('someone re-points the delegation: changed and lost', async () => {
    await nsupdate(parent, 'test', ['update delete drill.test. NS', 'update add drill.test. 300 NS ns.seized.example.']);
    const v = await look();
    assert.equal(v.state, 'delegation-changed', v.reasons.join('; '));
    assert.equal(v.lost, true);
    assert.deepEqual(v.foreignNs, ['ns.seized.example']);
  });

  it('the delegation is removed at the parent: gone and lost', async () => {
    await nsupdate(parent, 'test', ['update delete drill.test. NS']);
    const v = await look();
    assert.equal(v.state, 'delegation-gone', v.reasons.join('; '));
    assert.equal(v.lost, true);
  });

  it('the parent does not answer: nothing is concluded', async () => {
    const v = classifyDelegation(await observeDelegation({ zone: ZONE, expected, parents: [`127.0.0.1:${await freePort()}`], nameserverPort: port, timeoutMs: 300, resolveName: async () => [] }));
    assert.equal(v.state, 'parent-unreachable');
    assert.equal(v.lost, false);
  });
});
