import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { lookupRegistryStatus } from '../../src/delegation/rdap-client.ts';
import { eppStatusName, rdapBaseFor, registryStatusOf } from '../../src/delegation/registry-status.ts';

const NOW = Date.parse('2026-12-02T00:00:00Z');
const domainDoc = (status: string[], expiration = '2027-06-01T00:00:00Z') => ({
  objectClassName: 'domain',
  ldhName: 'example.test',
  status,
  events: [{ eventAction: 'registration', eventDate: '2020-01-01T00:00:00Z' }, { eventAction: 'expiration', eventDate: expiration }],
});

describe('registry status (pure)', () => {
  it('maps RDAP status words to EPP names', () => {
    assert.equal(eppStatusName('server hold'), 'serverHold');
    assert.equal(eppStatusName('client transfer prohibited'), 'clientTransferProhibited');
    assert.equal(eppStatusName('redemption period'), 'redemptionPeriod');
  });
  it('holds, deletion and redemption are problems; transfer locks are not', () => {
    assert.deepEqual(registryStatusOf('example.test', domainDoc(['active', 'client transfer prohibited']), NOW, 30).problems, []);
    for (const s of ['server hold', 'client hold', 'pending delete', 'redemption period']) {
      const r = registryStatusOf('example.test', domainDoc([s]), NOW, 30);
      assert.equal(r.problems.length, 1, s);
    }
  });
  it('expiry: days left and the warning window', () => {
    const soon = registryStatusOf('example.test', domainDoc([], '2026-12-20T00:00:00Z'), NOW, 30);
    assert.equal(soon.daysLeft, 18);
    assert.equal(soon.expiringSoon, true);
    const later = registryStatusOf('example.test', domainDoc([]), NOW, 30);
    assert.equal(later.expiringSoon, false);
    const past = registryStatusOf('example.test', domainDoc([], '2026-11-01T00:00:00Z'), NOW, 30);
    assert.match(past.problems.join(), /expired 31 day/);
  });
  it('a document that is not a domain object is a problem, not an exception', () => {
    for (const d of [null, 42, { objectClassName: 'entity' }]) assert.equal(registryStatusOf('x.test', d, NOW, 30).problems.length, 1);
  });
  it('bootstrap: the longest matching suffix wins, https first', () => {
    const b = { services: [[['test'], ['http://a.example/', 'https://a.example/']], [['example.test'], ['https://b.example/']], [['org'], ['https://c.example/']]] };
    assert.deepEqual(rdapBaseFor('www.example.test', b), ['https://b.example/']);
    assert.deepEqual(rdapBaseFor('other.test', b), ['https://a.example/', 'http://a.example/']);
    assert.deepEqual(rdapBaseFor('x.net', b), []);
    assert.deepEqual(rdapBaseFor('x.net', { nonsense: 1 }), []);
  });
});

describe('RDAP lookups against a local RDAP server', () => {
  let server: Server;
  let base: string;
  const docs: Record<string, unknown> = { 'held.test': domainDoc(['server hold']), 'fine.test': domainDoc(['active']) };
  before(async () => {
    server = createServer((req, res) => {
      const m = /^\/rdap\/domain\/(.+)$/.exec(req.url ?? '');
      if (req.url === '/bootstrap.json') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ version: '1.0', services: [[['test'], [`${base}/rdap/`]]] }));
      }
      const doc = m && docs[decodeURIComponent(m[1])];
      if (!doc) return res.writeHead(404).end();
      res.setHeader('content-type', 'application/rdap+json');
      res.end(JSON.stringify(doc));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('finds the service from the bootstrap and reports a hold; unknown domains and dead servers are values', async () => {
    const r = await lookupRegistryStatus(['held.test', 'fine.test', 'gone.test', 'x.org'], { bootstrap: `${base}/bootstrap.json`, timeoutMs: 2000, warnDays: 30, now: () => NOW });
    assert.equal(r[0].ok && r[0].status.statuses.includes('serverHold'), true);
    assert.equal(r[0].ok && r[0].status.problems.length, 1);
    assert.equal(r[1].ok && r[1].status.problems.length, 0);
    assert.equal(r[2].ok, false);
    assert.match((r[2] as { error: string }).error, /404/);
    assert.match((r[3] as { error: string }).error, /no RDAP service/);
    const dead = await lookupRegistryStatus(['held.test'], { bootstrap: 'http://127.0.0.1:1/none.json', timeoutMs: 500, warnDays: 30 });
    assert.equal(dead[0].ok, false);
  });
});
