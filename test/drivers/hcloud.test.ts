/**
 * Hetzner DNS driver (Hetzner Cloud API, fetch) against the hcloud contract fake: the shared conformance suite,
 * plus Hetzner specifics (relative names, quoted TXT, actions, RateLimit-Reset, secrets never in errors).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import type { Change } from '../../src/domain/records.ts';
import { retryAfterMs } from '../../src/drivers/hcloud/hcloud-api.ts';
import { createHcloudDriver, type HcloudDriverOptions } from '../../src/drivers/hcloud/hcloud-driver.ts';
import { fromHcloudValue, fromRelativeName, quoteTxt, toHcloudValue, toRelativeName, unquoteTxt } from '../../src/drivers/hcloud/hcloud-records.ts';
import { startHcloudFake, type HcloudFake } from '../fakes/hcloud-fake.ts';
import { assertNoSecretIn, errorOf } from '../support/secret-leaks.ts';
import { conformanceSuite } from './conformance.ts';

const SECRET = 'hc-token-Pq8Wn3Zr6Tb1Yv4Xc7Ms2Lk9Jh5Gf0Dd';
const ZONE = 'example.net';
const FAST: HcloudDriverOptions = { retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 40 }, actionPollMs: 5, perPage: 50 };

function driverFor(fake: HcloudFake, token = SECRET, opts: HcloudDriverOptions = FAST) {
  return createHcloudDriver({ name: 'hc-test', settings: { tokenEnv: 'HCLOUD_TOKEN', endpoint: fake.url }, env: { HCLOUD_TOKEN: token } }, opts);
}

let fake: HcloudFake;
conformanceSuite({
  label: 'hcloud (Hetzner Cloud API → contract fake)',
  kind: 'hcloud',
  refusesBelowMinTtl: true,
  zone: ZONE,
  async setup() {
    fake = await startHcloudFake({ token: SECRET, zones: [ZONE], pageSize: 3, actionDelayMs: 10, retryAfterSeconds: 1 });
  },
  async teardown() {
    await fake?.stop();
  },
  driver: () => driverFor(fake),
  async seedForeign(r) {
    fake.seed(ZONE, r);
  },
  async injectThrottle(n) {
    fake.injectThrottle(n);
  },
  badCredentialsDriver: () => driverFor(fake, 'hc-token-wrong-000000000000000000000'),
  secrets: () => [SECRET, 'hc-token-wrong-000000000000000000000'],
  missingZone: 'missing.example',
});

describe('hcloud driver specifics', () => {
  let f: HcloudFake;
  before(async () => {
    f = await startHcloudFake({ token: SECRET, zones: [ZONE], pageSize: 2, actionDelayMs: 15 });
  });
  after(async () => {
    await f?.stop();
  });

  it('declares the write requests an apply sends: one per RRset, two for an update of values and TTL', async () => {
    const d = driverFor(f);
    const a = { name: `wr.${ZONE}`, type: 'A' as const, ttl: 60, values: ['192.0.2.1'] };
    const changes: Change[] = [
      { action: 'create', after: a },
      { action: 'create', after: { ...a, name: `wr2.${ZONE}` } },
    ];
    assert.equal(d.writeRequests(ZONE, changes), 2);
    let r = await d.applyChanges(ZONE, changes);
    assert.equal(r.requests, 2);
    const both: Change[] = [{ action: 'update', before: a, after: { ...a, ttl: 120, values: ['192.0.2.2'] } }, { action: 'update', before: { ...a, name: `wr2.${ZONE}` }, after: { ...a, name: `wr2.${ZONE}`, ttl: 120 } }];
    assert.equal(d.writeRequests(ZONE, both), 3);
    const writes = f.writes;
    r = await d.applyChanges(ZONE, both);
    assert.deepEqual([r.requests, f.writes - writes], [3, 3]);
    await d.applyChanges(ZONE, both.map((c) => ({ action: 'delete', before: (c as { after: typeof a }).after })));
  });

  it('names are relative with @ for the apex; values are zone-file presentation', () => {
    assert.equal(toRelativeName(ZONE, ZONE), '@');
    assert.equal(toRelativeName(`www.${ZONE}`, ZONE), 'www');
    assert.equal(fromRelativeName('@', ZONE), ZONE);
    assert.equal(fromRelativeName('*.a', ZONE), `*.a.${ZONE}`);
    assert.equal(toHcloudValue('CNAME', 'target.example.org'), 'target.example.org.');
    assert.equal(fromHcloudValue('CNAME', 'target.example.org.', ZONE), 'target.example.org');
    assert.equal(fromHcloudValue('CNAME', 'www', ZONE), `www.${ZONE}`, 'a name without a dot is relative to the zone');
    assert.equal(fromHcloudValue('MX', '10 mail', ZONE), `10 mail.${ZONE}`);
    assert.equal(quoteTxt('a "b"'), '"a \\"b\\""');
    assert.equal(unquoteTxt('"abc" "def"'), 'abcdef');
    assert.equal(unquoteTxt(quoteTxt('y'.repeat(600))), 'y'.repeat(600));
  });

  it('writes relative names, quoted TXT and absolute targets; follows pagination and actions', async () => {
    const d = driverFor(f);
    const polls = f.actionPolls;
    const changes: Change[] = [
      { action: 'create', after: { name: ZONE, type: 'TXT', ttl: 300, values: ['apex text'] } },
      { action: 'create', after: { name: `alias.${ZONE}`, type: 'CNAME', ttl: 300, values: [`www.${ZONE}`] } },
      { action: 'create', after: { name: `*.w.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.8'] } },
      { action: 'create', after: { name: ZONE, type: 'MX', ttl: 300, values: [`10 mail.${ZONE}`] } },
    ];
    const report = await d.applyChanges(ZONE, changes);
    assert.equal(report.requests, 4, 'one request per RRset');
    assert.ok(f.actionPolls > polls, 'running actions are followed until they finish');
    const stored = f.rrsets(ZONE);
    assert.deepEqual(stored.find((r) => r.name === '@' && r.type === 'TXT')?.records.map((r) => r.value), ['"apex text"']);
    assert.deepEqual(stored.find((r) => r.name === 'alias')?.records.map((r) => r.value), [`www.${ZONE}.`]);
    assert.ok(stored.some((r) => r.name === '*.w'));
    const list = await d.listRecords(ZONE); // 2 rrsets a page in this fake
    for (const c of changes) {
      const a = c.action === 'create' ? c.after : undefined;
      assert.deepEqual(list.find((r) => r.name === a?.name && r.type === a?.type)?.values, a?.values, `${a?.name}/${a?.type}`);
    }
    assert.ok(list.some((r) => r.type === 'SOA') && list.some((r) => r.type === 'NS' && r.name === ZONE), 'API-made SOA/NS listed');
  });

  it('an update uses set_records, and change_ttl only when the TTL changes', async () => {
    const d = driverFor(f);
    const before = { name: `u.${ZONE}`, type: 'A' as const, ttl: 300, values: ['192.0.2.1'] };
    await d.applyChanges(ZONE, [{ action: 'create', after: before }]);
    const r1 = await d.applyChanges(ZONE, [{ action: 'update', before, after: { ...before, values: ['192.0.2.2', '192.0.2.3'] } }]);
    assert.equal(r1.requests, 1);
    const r2 = await d.applyChanges(ZONE, [{ action: 'update', before: { ...before, values: ['192.0.2.2', '192.0.2.3'] }, after: { ...before, ttl: 600, values: ['192.0.2.2', '192.0.2.3'] } }]);
    assert.equal(r2.requests, 1);
    const u = f.rrsets(ZONE).find((r) => r.name === 'u');
    assert.equal(u?.ttl, 600);
    assert.deepEqual(u?.records.map((r) => r.value).sort(), ['192.0.2.2', '192.0.2.3']);
  });

  it('the fake refuses what the API refuses (unquoted TXT, absolute rrset names, low TTL)', async () => {
    const post = (body: unknown) => fetch(`${f.url}/zones/${ZONE}/rrsets`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const body of [
      { name: 'bad', type: 'TXT', ttl: 300, records: [{ value: 'not quoted' }] },
      { name: `bad.${ZONE}`, type: 'A', ttl: 300, records: [{ value: '192.0.2.1' }] },
      { name: 'bad', type: 'A', ttl: 10, records: [{ value: '192.0.2.1' }] },
    ]) {
      const res = await post(body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_input');
    }
  });

  it('waits one refill interval (capped by RateLimit-Reset) on 429 rate_limit_exceeded', async () => {
    assert.equal(retryAfterMs(new Headers({ 'ratelimit-reset': '1000' }), 999_000), 1000);
    // full recovery is an hour away, but one request refills in a second at 3600/hour
    assert.equal(retryAfterMs(new Headers({ 'ratelimit-limit': '3600', 'ratelimit-remaining': '0', 'ratelimit-reset': '4600' }), 1_000_000), 1000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' })), 3000);
    const waits: number[] = [];
    const d = driverFor(f, SECRET, { ...FAST, retry: { attempts: 3, sleep: async (ms) => { waits.push(ms); } } });
    f.injectThrottle(1);
    await d.applyChanges(ZONE, [{ action: 'create', after: { name: `rl.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.9'] } }]);
    assert.equal(waits.length, 1);
    assert.ok(waits[0] > 0 && waits[0] <= 2000, `waited ${waits[0]} ms for a reset 1-2 s away`);
  });

  it('never puts a secret in an error (message, string form, or inspected object)', async () => {
    const errors: unknown[] = [];
    const one = { ...FAST, retry: { attempts: 1 } };
    const good = driverFor(f, SECRET, one);
    const bad = driverFor(f, `${SECRET}-rotated`, one);
    const collect = async (p: Promise<unknown>) => errors.push(await errorOf(p));
    await collect(good.listRecords('missing.example'));
    await collect(bad.listRecords(ZONE));
    await collect(bad.applyChanges(ZONE, [{ action: 'create', after: { name: `s.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.5'] } }]));
    await collect(good.applyChanges(ZONE, [{ action: 'create', after: { name: `s.${ZONE}`, type: 'A', ttl: 5, values: ['192.0.2.5'] } }]));
    f.injectThrottle(1);
    await collect(good.applyChanges(ZONE, [{ action: 'create', after: { name: `s2.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.6'] } }]));
    const noEnv = createHcloudDriver({ name: 'hc-test', settings: { tokenEnv: 'NOPE', endpoint: f.url }, env: {} });
    await collect(noEnv.listRecords(ZONE));
    assert.equal(errors.length, 6);
    for (const e of errors) assert.ok(e instanceof DriverError, String(e));
    assertNoSecretIn(errors, [SECRET]);
    assert.deepEqual(errors.map((e) => (e as DriverError).code), ['DRIVER_NOT_FOUND', 'DRIVER_AUTH', 'DRIVER_AUTH', 'DRIVER_FAILED', 'DRIVER_RATE_LIMITED', 'DRIVER_AUTH']);
  });

  it('reports the zone\'s assigned authoritative name servers', async () => {
    assert.deepEqual(await driverFor(f).nameservers(ZONE), ['hydrogen.ns.hetzner.com', 'oxygen.ns.hetzner.com', 'helium.ns.hetzner.de']);
  });
});
