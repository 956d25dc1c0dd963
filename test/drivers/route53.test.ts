/**
 * Route 53 driver (official AWS SDK v3) against the Route 53 contract fake: the shared conformance suite, plus
 * Route 53 specifics (INSYNC polling, wildcard escapes, batch limits, throttling codes, secrets never in errors).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import type { Route53Settings } from '../../src/drivers/route53/route53-settings.ts';
import type { Change } from '../../src/domain/records.ts';
import { createRoute53Driver, type Route53DriverOptions } from '../../src/drivers/route53/route53-driver.ts';
import { fromRoute53Name, packChangeBatches, quoteTxt, toRoute53Name, unquoteTxt, weigh } from '../../src/drivers/route53/route53-records.ts';
import { startRoute53Fake, type Route53Fake } from '../fakes/route53-fake.ts';
import { assertNoSecretIn, errorOf } from '../support/secret-leaks.ts';
import { conformanceSuite } from './conformance.ts';

const KEY_ID = 'AKIAFAKE0000EXAMPLE1';
const SECRET = 'r53-secret-Xy7Qp2Lm9Vt4Rw8Zs1Kd6Hf3Jg5Nc0Bb';
const ZONE = 'example.org';
const FAST: Route53DriverOptions = { retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 40 }, pollIntervalMs: 10, pollTimeoutMs: 5000 };

function driverFor(fake: Route53Fake, secret = SECRET, settings: Partial<Route53Settings> = {}, opts: Route53DriverOptions = FAST) {
  return createRoute53Driver(
    {
      name: 'r53-test',
      settings: { accessKeyIdEnv: 'AWS_KEY', secretAccessKeyEnv: 'AWS_SECRET', region: 'us-east-1', endpoint: fake.url, ...settings },
      env: { AWS_KEY: KEY_ID, AWS_SECRET: secret },
    },
    opts,
  );
}

let fake: Route53Fake;
conformanceSuite({
  label: 'route53 (official AWS SDK → contract fake)',
  kind: 'route53',
  zone: ZONE,
  async setup() {
    fake = await startRoute53Fake({ accessKeyId: KEY_ID, secretAccessKey: SECRET, zones: [ZONE, 'example.net', 'zz.example'], pageSize: 7, insyncAfterMs: 30 });
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
  badCredentialsDriver: () => driverFor(fake, 'r53-secret-wrong-0000000000000000000000'),
  secrets: () => [SECRET, 'r53-secret-wrong-0000000000000000000000'],
  missingZone: 'missing.example',
});

describe('route53 driver specifics', () => {
  let f: Route53Fake;
  before(async () => {
    f = await startRoute53Fake({ accessKeyId: KEY_ID, secretAccessKey: SECRET, zones: [ZONE], pageSize: 4, insyncAfterMs: 60 });
  });
  after(async () => {
    await f?.stop();
  });

  it('names, wildcards and TXT quoting follow Route 53\'s formats', () => {
    assert.equal(toRoute53Name('*.Example.org'), '*.example.org.');
    assert.equal(fromRoute53Name('\\052.example.org.'), '*.example.org');
    assert.equal(quoteTxt('say "hi"'), '"say \\"hi\\""');
    assert.equal(unquoteTxt('"abc" "def"'), 'abcdef');
    assert.equal(unquoteTxt('"caf\\303\\251"'), 'café');
    assert.equal(unquoteTxt(quoteTxt('café ü')), 'café ü');
  });

  it('waits for INSYNC after a change and reports the change id', async () => {
    const d = driverFor(f);
    const polls = f.getChangeRequests;
    const t0 = Date.now();
    const report = await d.applyChanges(ZONE, [{ action: 'create', after: { name: `sync.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.10'] } }]);
    assert.ok(Date.now() - t0 >= 55, 'returned before the change could be INSYNC');
    assert.ok(f.getChangeRequests - polls >= 2, 'expected GetChange polling (PENDING then INSYNC)');
    assert.match(report.changeId ?? '', /^C[0-9A-F]+$/);
    assert.equal(report.requests, 1);
  });

  it('handles wildcard names (Route 53 lists them as \\052)', async () => {
    const d = driverFor(f);
    await d.applyChanges(ZONE, [{ action: 'create', after: { name: `*.wild.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.20'] } }]);
    assert.ok(f.sets(ZONE).some((s) => s.name === `\\052.wild.${ZONE}.`));
    const listed = (await d.listRecords(ZONE)).find((r) => r.name === `*.wild.${ZONE}`);
    assert.deepEqual(listed?.values, ['192.0.2.20']);
    await d.applyChanges(ZONE, [{ action: 'update', before: listed!, after: { ...listed!, values: ['192.0.2.21'] } }]);
    await d.applyChanges(ZONE, [{ action: 'delete', before: { ...listed!, values: ['192.0.2.21'] } }]);
    assert.ok(!f.sets(ZONE).some((s) => s.name.startsWith('\\052')));
  });

  it('follows pagination (the fake serves 4 record sets a page)', async () => {
    const d = driverFor(f);
    const changes: Change[] = Array.from({ length: 9 }, (_, i) => ({ action: 'create', after: { name: `pg${i}.${ZONE}`, type: 'TXT', ttl: 300, values: [`page ${i}`] } }));
    await d.applyChanges(ZONE, changes);
    const names = (await d.listRecords(ZONE)).map((r) => r.name);
    for (let i = 0; i < 9; i++) assert.ok(names.includes(`pg${i}.${ZONE}`), `pg${i} missing: pagination not followed`);
    assert.ok(names.includes(ZONE), 'the apex SOA/NS are listed too');
  });

  it('the fake refuses oversize change batches, so the driver must split', async () => {
    // A driver that believed the limit were 200 changes sends one oversize request and fails as on AWS.
    const careless = driverFor(f, SECRET, {}, { ...FAST, limits: { changes: 200, records: 5000, chars: 100000 } });
    const many: Change[] = Array.from({ length: 101 }, (_, i) => ({ action: 'create', after: { name: `big${i}.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.1'] } }));
    await assert.rejects(careless.applyChanges(ZONE, many), (e: unknown) => {
      assert.ok(e instanceof DriverError);
      assert.equal(e.code, 'DRIVER_FAILED');
      assert.match(e.message, /limit of 100 exceeded/);
      return true;
    });
    assert.ok(!f.sets(ZONE).some((s) => s.name.startsWith('big')), 'a refused batch changes nothing (transactional)');
    const report = await driverFor(f).applyChanges(ZONE, many);
    assert.equal(report.requests, 2);
    assert.deepEqual(f.batches.slice(-2), [100, 1]);
  });

  it('packs by changes, records and characters, keeping an update\'s DELETE+CREATE together', () => {
    const rr = (n: number, len = 10) => ({ Name: 'a.example.org.', Type: 'TXT' as const, TTL: 60, ResourceRecords: Array.from({ length: n }, () => ({ Value: 'x'.repeat(len) })) });
    const del = { Action: 'DELETE' as const, ResourceRecordSet: rr(300) };
    const cre = { Action: 'CREATE' as const, ResourceRecordSet: rr(300) };
    const batches = packChangeBatches([[del, cre], [del, cre]]);
    assert.deepEqual(batches.map((b) => b.length), [2, 2]);
    assert.ok(batches.every((b) => weigh(b).records <= 1000));
    assert.equal(weigh([{ Action: 'UPSERT', ResourceRecordSet: rr(10) }]).records, 20, 'UPSERT counts twice');
    const chars = packChangeBatches([[{ Action: 'CREATE', ResourceRecordSet: rr(1, 20000) }], [{ Action: 'CREATE', ResourceRecordSet: rr(1, 20000) }]]);
    assert.equal(chars.length, 2);
  });

  it('a create that lost a race is refused, not forced', async () => {
    const d = driverFor(f);
    const name = `race.${ZONE}`;
    await d.applyChanges(ZONE, [{ action: 'create', after: { name, type: 'A', ttl: 300, values: ['192.0.2.30'] } }]);
    // someone else creates the same name between our plan and our apply: CREATE must fail, not overwrite
    f.seed(ZONE, { name: `race2.${ZONE}`, type: 'A', ttl: 300, values: ['198.51.100.1'] });
    await assert.rejects(d.applyChanges(ZONE, [{ action: 'create', after: { name: `race2.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.31'] } }]), (e: unknown) => {
      assert.ok(e instanceof DriverError);
      assert.equal(e.code, 'DRIVER_FAILED');
      assert.match(e.message, /already exists/);
      return true;
    });
    assert.deepEqual(f.sets(ZONE).find((s) => s.name === `race2.${ZONE}.`)?.values, ['198.51.100.1']);
  });

  it('retries Throttling and PriorRequestNotComplete, then succeeds', async () => {
    const d = driverFor(f);
    f.injectThrottle(1, 'Throttling');
    f.injectThrottle(1, 'PriorRequestNotComplete');
    const before = f.changeRequests;
    await d.applyChanges(ZONE, [{ action: 'create', after: { name: `busy.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.40'] } }]);
    assert.equal(f.changeRequests - before, 3, 'two refused attempts, one accepted; SDK retries are off');
  });

  it('gives up with DRIVER_RATE_LIMITED when throttling outlasts the attempts', async () => {
    const d = driverFor(f, SECRET, {}, { ...FAST, retry: { attempts: 2, sleep: async () => {} } });
    f.injectThrottle(2);
    await assert.rejects(d.applyChanges(ZONE, [{ action: 'create', after: { name: `tired.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.41'] } }]), (e: unknown) => {
      assert.ok(e instanceof DriverError);
      assert.equal(e.code, 'DRIVER_RATE_LIMITED');
      return true;
    });
  });

  it('uses settings.hostedZoneId and reports the delegation set\'s name servers', async () => {
    const d = driverFor(f, SECRET, { hostedZoneId: `/hostedzone/${f.zoneId(ZONE)}` });
    const requestsBefore = f.requests;
    const ns = await d.nameservers(ZONE);
    assert.equal(f.requests - requestsBefore, 1, 'one GetHostedZone, no ListHostedZonesByName');
    assert.deepEqual(ns, ['ns-101.awsdns-12.com', 'ns-602.awsdns-11.net', 'ns-1203.awsdns-22.org', 'ns-1804.awsdns-33.co.uk']);
  });

  it('never puts a secret in an error (message, string form, or inspected object)', async () => {
    const errors: unknown[] = [];
    const one = { ...FAST, retry: { attempts: 1 } };
    const good = driverFor(f, SECRET, {}, one);
    const bad = driverFor(f, `${SECRET}-rotated`, {}, one);
    const collect = async (p: Promise<unknown>) => errors.push(await errorOf(p));
    await collect(good.listRecords('missing.example'));
    await collect(bad.listRecords(ZONE));
    await collect(bad.applyChanges(ZONE, [{ action: 'create', after: { name: `s.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.5'] } }]));
    await collect(good.applyChanges(ZONE, [{ action: 'delete', before: { name: `nothing.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.5'] } }, { action: 'create', after: { name: `busy.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.5'] } }]));
    f.injectThrottle(1);
    await collect(good.applyChanges(ZONE, [{ action: 'create', after: { name: `s2.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.6'] } }]));
    const noEnv = createRoute53Driver({ name: 'r53-test', settings: { accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S', region: 'us-east-1', endpoint: f.url }, env: {} });
    await collect(noEnv.listRecords(ZONE));
    for (const d of [good, bad, noEnv]) await d.close?.();
    assert.equal(errors.length, 6);
    for (const e of errors) assert.ok(e instanceof DriverError, String(e));
    assertNoSecretIn(errors, [SECRET]);
    assert.deepEqual(errors.map((e) => (e as DriverError).code), ['DRIVER_NOT_FOUND', 'DRIVER_AUTH', 'DRIVER_AUTH', 'DRIVER_FAILED', 'DRIVER_RATE_LIMITED', 'DRIVER_AUTH']);
  });
});
