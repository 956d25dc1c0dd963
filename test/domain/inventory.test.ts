import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedAddresses, knownMirrors, withInventory, type Inventory } from '../../src/domain/inventory.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const inv = (mirrors: Inventory['mirrors']): Inventory => ({ updatedAt: 1, mirrors });

describe('inventory: which address the controller knows for each mirror (pure)', () => {
  const spec = fleetFixture({}, 3);
  spec.mirrors[1] = { name: 'm1', provider: 'aws', settings: {} };
  spec.mirrors[2] = { name: 'm2', provider: 'hcloud', settings: {} };

  it('stack-file addresses count; a cloud mirror without outputs is not provisioned', () => {
    const k = knownMirrors(spec, undefined);
    assert.deepEqual(k.map((x) => [x.name, x.provisioned, x.ipv4 ?? '', x.source ?? '']), [['m0', true, '127.0.0.11', 'stack-file'], ['m1', false, '', ''], ['m2', false, '', '']]);
  });

  it('a stack-file address wins (the box you run yourself); the inventory gives the others theirs; no address = not provisioned', () => {
    const k = knownMirrors(spec, inv({ m0: { provider: 'local', ipv4: '127.0.0.99', digest: 'x', at: 5, source: 'pulumi' }, m1: { provider: 'aws', ipv6: '2001:db8::1', resourceId: 'i-1', at: 5, source: 'pulumi' }, m2: { provider: 'hcloud', at: 5, source: 'pulumi' } }));
    assert.deepEqual(k.map((x) => [x.name, x.provisioned, x.ipv4 ?? '', x.ipv6 ?? '', x.source ?? '']), [['m0', true, '127.0.0.11', '', 'stack-file'], ['m1', true, '', '2001:db8::1', 'pulumi'], ['m2', false, '', '', '']]);
    assert.equal(k[0].digest, 'x', 'what was deployed on it is still shown');
    const s = withInventory(spec, inv({ m1: { provider: 'aws', ipv4: '198.51.100.1', at: 5, source: 'pulumi' } }));
    assert.deepEqual(s.mirrors.map((m) => m.ipv4), ['127.0.0.11', '198.51.100.1', undefined]);
    assert.equal(spec.mirrors[1].ipv4, undefined, 'the spec itself is not changed');
  });

  it('changedAddresses names the mirrors that moved (replacement host, first address), not the others', () => {
    const a = inv({ m1: { provider: 'aws', ipv4: '198.51.100.1', at: 1, source: 'pulumi' } });
    const b = inv({ m1: { provider: 'aws', ipv4: '198.51.100.2', at: 2, source: 'pulumi' }, m2: { provider: 'hcloud', ipv4: '198.51.100.3', at: 2, source: 'pulumi' } });
    assert.deepEqual(changedAddresses(spec, a, b), ['m1', 'm2']);
    assert.deepEqual(changedAddresses(spec, b, structuredClone(b)), []);
    assert.deepEqual(changedAddresses(spec, undefined, a), ['m1']);
  });
});
