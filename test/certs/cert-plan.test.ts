import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certNames, challengeName, challengeOwner, challengeRecords } from '../../src/certs/cert-plan.ts';
import { planChanges } from '../../src/planner/plan-changes.ts';
import { markerRecord } from '../../src/planner/ownership.ts';

const spec = { domain: 'Example.test', alternateDomains: ['example-mirror.test', 'www.example.test', 'example.test'] };

describe('certificate plan', () => {
  it('names: the domain first, then every alternate domain, once each, lower case', () => {
    assert.deepEqual(certNames(spec), ['example.test', 'example-mirror.test', 'www.example.test']);
  });

  it('challenge names: _acme-challenge under the name (a wildcard shares its base name)', () => {
    assert.equal(challengeName('www.example.test'), '_acme-challenge.www.example.test');
    assert.equal(challengeName('*.example.test'), '_acme-challenge.example.test');
  });

  it('records per zone: one TXT RRset per name with every value, each with an ownership marker of the acme owner', () => {
    const zones = challengeRecords(spec, [
      { name: 'example.test', value: 'v1' },
      { name: 'www.example.test', value: 'v2' },
      { name: 'example-mirror.test', value: 'v3' },
      { name: '*.example.test', value: 'v0' },
    ], 'prod');
    assert.deepEqual(Object.keys(zones).sort(), ['example-mirror.test', 'example.test']);
    const txt = zones['example.test'].filter((r) => !r.name.startsWith('_flotilla-'));
    assert.deepEqual(txt, [
      { name: '_acme-challenge.example.test', type: 'TXT', ttl: 60, values: ['v0', 'v1'] },
      { name: '_acme-challenge.www.example.test', type: 'TXT', ttl: 60, values: ['v2'] },
    ]);
    assert.ok(zones['example.test'].some((r) => r.name === '_flotilla-txt._acme-challenge.example.test' && r.values[0] === 'heritage=flotilla,owner=prod.acme'));
    assert.deepEqual(zones['example-mirror.test'].map((r) => r.name), ['_flotilla-txt._acme-challenge.example-mirror.test', '_acme-challenge.example-mirror.test']);
  });

  it('no values: every zone with an empty list (what removal writes)', () => {
    assert.deepEqual(challengeRecords(spec, [], 'prod'), { 'example.test': [], 'example-mirror.test': [] });
  });

  it('the serving records\' plan never touches a challenge, and the challenge plan never touches serving records', () => {
    const serving = [markerRecord('example.test', 'A', 'prod', 60), { name: 'example.test', type: 'A' as const, ttl: 60, values: ['192.0.2.1'] }];
    const challenge = challengeRecords(spec, [{ name: 'example.test', value: 'v1' }], 'prod')['example.test'];
    const zone = [...serving, ...challenge];
    // the controller's pass (desired = serving only) leaves the challenge alone
    assert.deepEqual(planChanges(zone, serving, { ownerId: 'prod', maxRemoveShare: 1 }).changes, []);
    // removing the challenges deletes only them (record first, marker last)
    const removal = planChanges(zone, [], { ownerId: challengeOwner('prod'), maxRemoveShare: 1 }).changes;
    assert.deepEqual(removal.map((c) => (c.action === 'delete' ? c.before.name : '?')), ['_acme-challenge.example.test', '_flotilla-txt._acme-challenge.example.test']);
  });
});
