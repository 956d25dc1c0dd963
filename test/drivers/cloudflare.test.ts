/**
 * Cloudflare driver (official SDK) against the Cloudflare contract fake: the shared conformance suite, plus the
 * things only this provider has (TXT quoting both ways, batch limit, retry-after, secrets never in errors).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import type { CloudflareSettings } from '../../src/drivers/cloudflare/cloudflare-settings.ts';
import type { Change } from '../../src/domain/records.ts';
import { createCloudflareDriver, type CloudflareDriverOptions } from '../../src/drivers/cloudflare/cloudflare-driver.ts';
import { batchForChange, packBatches, quoteTxt, unquoteTxt } from '../../src/drivers/cloudflare/cloudflare-records.ts';
import { startCloudflareFake, type CloudflareFake } from '../fakes/cloudflare-fake.ts';
import { assertNoSecretIn, errorOf } from '../support/secret-leaks.ts';
import { conformanceSuite } from './conformance.ts';

const SECRET = 'cf-token-7Qm2xZ9pL4vR8sT1uW3yA5bC6dE0fG2h';
const ZONE = 'example.com';
const FAST: CloudflareDriverOptions = { retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 50 } };

function driverFor(fake: CloudflareFake, token: string, settings: Partial<CloudflareSettings> = {}, opts: CloudflareDriverOptions = FAST) {
  return createCloudflareDriver({ name: 'cf-test', settings: { tokenEnv: 'CF_API_TOKEN', baseUrl: fake.url, ...settings }, env: { CF_API_TOKEN: token } }, opts);
}

let fake: CloudflareFake;
conformanceSuite({
  label: 'cloudflare (official SDK → contract fake)',
  kind: 'cloudflare',
  refusesBelowMinTtl: true,
  zone: ZONE,
  async setup() {
    fake = await startCloudflareFake({ token: SECRET, zones: [ZONE, 'other.example'], pageSize: 20, retryAfterSeconds: 1 });
  },
  async teardown() {
    await fake?.stop();
  },
  driver: () => driverFor(fake, SECRET),
  async seedForeign(r) {
    fake.seed(ZONE, r);
  },
  async injectThrottle(n) {
    fake.injectThrottle(n);
  },
  badCredentialsDriver: () => driverFor(fake, 'cf-token-wrong-00000000000000000000000'),
  secrets: () => [SECRET, 'cf-token-wrong-00000000000000000000000'],
  missingZone: 'missing.example',
});

describe('cloudflare driver specifics', () => {
  let f: CloudflareFake;
  before(async () => {
    f = await startCloudflareFake({ token: SECRET, zones: [ZONE], pageSize: 5, batchLimit: 10, retryAfterSeconds: 1 });
  });
  after(async () => {
    await f?.stop();
  });

  it('TXT content: writes quoted strings, reads quoted and unquoted alike', async () => {
    assert.equal(quoteTxt('say "hi"'), '"say \\"hi\\""');
    assert.equal(unquoteTxt('"say \\"hi\\""'), 'say "hi"');
    assert.equal(unquoteTxt('"abc" "def"'), 'abcdef');
    assert.equal(unquoteTxt('plain text'), 'plain text');
    const long = 'x'.repeat(300);
    assert.equal(quoteTxt(long), `"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);

    const d = driverFor(f, SECRET);
    f.seed(ZONE, { name: `legacy.${ZONE}`, type: 'TXT', ttl: 300, values: ['unquoted legacy'] });
    await d.applyChanges(ZONE, [{ action: 'create', after: { name: `new.${ZONE}`, type: 'TXT', ttl: 300, values: ['quoted now'] } }]);
    const stored = f.records(ZONE).find((r) => r.name === `new.${ZONE}`);
    assert.equal(stored?.content, '"quoted now"');
    const list = await d.listRecords(ZONE);
    assert.deepEqual(list.find((r) => r.name === `legacy.${ZONE}`)?.values, ['unquoted legacy']);
    assert.deepEqual(list.find((r) => r.name === `new.${ZONE}`)?.values, ['quoted now']);
    assert.ok(f.records(ZONE).every((r) => r.proxied === false), 'records are DNS-only');
  });

  it('follows pagination (the fake serves 5 records a page)', async () => {
    const d = driverFor(f, SECRET);
    const changes: Change[] = [];
    for (let i = 0; i < 9; i++) changes.push({ action: 'create', after: { name: `p${i}.${ZONE}`, type: 'A', ttl: 300, values: [`192.0.2.${i + 10}`] } });
    const report = await d.applyChanges(ZONE, changes);
    assert.equal(report.requests, 1, 'nine records fit one batch of ten');
    const names = (await d.listRecords(ZONE)).map((r) => r.name);
    for (let i = 0; i < 9; i++) assert.ok(names.includes(`p${i}.${ZONE}`), `p${i} missing: pagination not followed`);
    assert.ok(f.records(ZONE).length > 5);
  });

  it('the fake rejects a batch over the plan limit, so splitting is required', async () => {
    const posts = Array.from({ length: 11 }, (_, i) => ({ name: `over${i}.${ZONE}`, type: 'A', ttl: 300, content: `198.51.100.${i}`, proxied: false }));
    const zoneId = (await (await fetch(`${f.url}/zones?name=${ZONE}`, { headers: { authorization: `Bearer ${SECRET}` } })).json()) as { result: { id: string }[] };
    const res = await fetch(`${f.url}/zones/${zoneId.result[0].id}/dns_records/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({ posts }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { success: boolean; errors: { code: number }[] };
    assert.equal(body.success, false);
    assert.ok(body.errors.length > 0);
    // and the driver splits the same change set (batchSize 10 = the fake's limit)
    const d = driverFor(f, SECRET, { batchSize: 10 });
    const changes: Change[] = posts.map((p) => ({ action: 'create', after: { name: p.name, type: 'A', ttl: 300, values: [p.content] } }));
    const report = await d.applyChanges(ZONE, changes);
    assert.equal(report.requests, 2);
    assert.ok(f.batches.slice(-2).every((n) => n <= 10));
  });

  it('an update is one batch of record operations and keeps unchanged records', async () => {
    const d = driverFor(f, SECRET);
    const name = `upd.${ZONE}`;
    await d.applyChanges(ZONE, [{ action: 'create', after: { name, type: 'A', ttl: 300, values: ['192.0.2.1', '192.0.2.2'] } }]);
    const keptId = f.records(ZONE).find((r) => r.name === name && r.content === '192.0.2.2')?.id;
    const before = f.batches.length;
    const report = await d.applyChanges(ZONE, [{ action: 'update', before: { name, type: 'A', ttl: 300, values: ['192.0.2.1', '192.0.2.2'] }, after: { name, type: 'A', ttl: 300, values: ['192.0.2.2', '192.0.2.3'] } }]);
    assert.equal(report.requests, 1);
    assert.equal(f.batches.length, before + 1);
    const now = f.records(ZONE).filter((r) => r.name === name);
    assert.deepEqual(now.map((r) => r.content).sort(), ['192.0.2.2', '192.0.2.3']);
    assert.equal(now.find((r) => r.content === '192.0.2.2')?.id, keptId);
  });

  it('record operations: pure computation and packing', () => {
    const cur = [
      { id: 'a', name: 'x.example.com', type: 'A', content: '192.0.2.1', ttl: 300 },
      { id: 'b', name: 'x.example.com', type: 'A', content: '192.0.2.2', ttl: 300 },
    ];
    const upd = batchForChange({ action: 'update', before: { name: 'x.example.com', type: 'A', ttl: 300, values: ['192.0.2.1', '192.0.2.2'] }, after: { name: 'x.example.com', type: 'A', ttl: 600, values: ['192.0.2.2'] } }, cur);
    assert.deepEqual(upd.deletes, [{ id: 'a' }]);
    assert.equal(upd.patches.length, 1);
    assert.equal(upd.patches[0].ttl, 600);
    const del = batchForChange({ action: 'delete', before: { name: 'x.example.com', type: 'A', ttl: 300, values: ['192.0.2.1'] } }, cur);
    assert.deepEqual(del.deletes.map((d) => d.id).sort(), ['a', 'b']);
    const parts = [del, upd, del];
    assert.deepEqual(packBatches(parts, 3).map((b) => b.deletes.length + b.patches.length + b.posts.length), [2, 2, 2]);
    assert.deepEqual(packBatches(parts, 1).length, 6);
  });

  it('honours retry-after exactly (and uses our retry, not the SDK\'s)', async () => {
    const waits: number[] = [];
    const d = driverFor(f, SECRET, {}, { retry: { attempts: 4, baseDelayMs: 1, sleep: async (ms) => { waits.push(ms); } } });
    f.injectThrottle(2);
    const writesBefore = f.writes;
    await d.applyChanges(ZONE, [{ action: 'create', after: { name: `ra.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.77'] } }]);
    assert.deepEqual(waits, [1000, 1000]);
    assert.equal(f.writes - writesBefore, 3, 'two throttled attempts and one that succeeded: no hidden SDK retries');
  });

  it('gives up with DRIVER_RATE_LIMITED when throttling outlasts the attempts', async () => {
    const d = driverFor(f, SECRET, {}, { retry: { attempts: 2, sleep: async () => {} } });
    f.injectThrottle(2);
    await assert.rejects(d.applyChanges(ZONE, [{ action: 'create', after: { name: `rl.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.78'] } }]), (e: unknown) => {
      assert.ok(e instanceof DriverError);
      assert.equal(e.code, 'DRIVER_RATE_LIMITED');
      assert.equal(e.retryAfterMs, 1000);
      return true;
    });
  });

  it('never puts a secret in an error (message, string form, or inspected object)', async () => {
    const errors: unknown[] = [];
    const good = driverFor(f, SECRET, {}, { retry: { attempts: 1 } });
    const bad = driverFor(f, `${SECRET}-rotated`, {}, { retry: { attempts: 1 } });
    const collect = async (p: Promise<unknown>) => errors.push(await errorOf(p));
    await collect(good.listRecords('missing.example'));
    await collect(bad.listRecords(ZONE));
    await collect(bad.applyChanges(ZONE, [{ action: 'create', after: { name: `s.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.5'] } }]));
    await collect(good.applyChanges(ZONE, [{ action: 'create', after: { name: `s.${ZONE}`, type: 'A', ttl: 5, values: ['192.0.2.5'] } }]));
    f.injectThrottle(1);
    await collect(good.applyChanges(ZONE, [{ action: 'create', after: { name: `s2.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.6'] } }]));
    const missingEnv = createCloudflareDriver({ name: 'cf-test', settings: { tokenEnv: 'NOPE', baseUrl: f.url }, env: {} });
    await collect(missingEnv.listRecords(ZONE));
    assert.equal(errors.length, 6);
    for (const e of errors) assert.ok(e instanceof DriverError, String(e));
    assertNoSecretIn(errors, [SECRET]);
    assert.deepEqual(errors.map((e) => (e as DriverError).code), ['DRIVER_NOT_FOUND', 'DRIVER_AUTH', 'DRIVER_AUTH', 'DRIVER_FAILED', 'DRIVER_RATE_LIMITED', 'DRIVER_AUTH']);
  });

  it('reports the zone\'s name_servers', async () => {
    assert.deepEqual(await driverFor(f, SECRET).nameservers(ZONE), ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com']);
  });
});
