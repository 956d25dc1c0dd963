import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlanRefusedError } from '../../src/domain/errors.ts';
import type { RecordSet } from '../../src/domain/records.ts';
import { reconcileAll } from '../../src/controller/reconcile.ts';
import { createCloudflareDriver } from '../../src/drivers/cloudflare/cloudflare-driver.ts';
import { providerCapabilities } from '../../src/drivers/registry.ts';
import { markerRecord } from '../../src/planner/ownership.ts';
import { shapeForProvider } from '../../src/planner/shape-for-provider.ts';
import { startCloudflareFake, type CloudflareFake } from '../fakes/cloudflare-fake.ts';

const caps = { minTtl: 60, types: ['A', 'AAAA', 'TXT'] as const };
const rs = (name: string, ttl: number, type: RecordSet['type'] = 'A', values = ['192.0.2.1']): RecordSet => ({ name, type, ttl, values });

describe('shapeForProvider', () => {
  it('raises a TTL below the floor and says so once per TTL', () => {
    const r = shapeForProvider([rs('a.example.com', 30), rs('b.example.com', 30), rs('c.example.com', 10), rs('d.example.com', 300)], caps, 'cloudflare');
    assert.deepEqual(r.records.map((x) => x.ttl), [60, 60, 60, 300]);
    assert.deepEqual(r.notes, ["cloudflare: ttl 10 raised to 60, the provider's floor", "cloudflare: ttl 30 raised to 60, the provider's floor"]);
  });

  it('leaves records at or above the floor as they are, with no note', () => {
    const input = [rs('a.example.com', 60), rs('b.example.com', 3600, 'TXT', ['x'])];
    const r = shapeForProvider(input, caps, 'cf');
    assert.deepEqual(r.records, input);
    assert.deepEqual(r.notes, []);
  });

  it('does not change its input', () => {
    const input = [rs('a.example.com', 1)];
    shapeForProvider(input, caps);
    assert.equal(input[0].ttl, 1);
  });

  it('refuses a record type the provider does not take, naming provider, record and the types it takes', () => {
    assert.throws(
      () => shapeForProvider([rs('a.example.com', 60), rs('_sip._tcp.example.com', 60, 'SRV', ['1 1 5060 sip.example.com'])], caps, 'cf-main'),
      (e: unknown) => e instanceof PlanRefusedError && /^cf-main: cannot hold SRV at _sip\._tcp\.example\.com: the provider takes only A, AAAA, TXT records$/.test(e.message),
    );
  });

  it('every declared floor of the registry is applied (route53 keeps 30, cloudflare and hcloud raise it)', () => {
    const records = [rs('a.example.com', 30)];
    assert.equal(shapeForProvider(records, providerCapabilities('route53')).records[0].ttl, 30);
    assert.equal(shapeForProvider(records, providerCapabilities('cloudflare')).records[0].ttl, 60);
    assert.equal(shapeForProvider(records, providerCapabilities('hcloud')).records[0].ttl, 60);
    assert.equal(shapeForProvider(records, providerCapabilities('local')).records[0].ttl, 30);
  });
});

describe('the provider pass shapes before it plans (policy.ttl 30 at Cloudflare)', () => {
  const ZONE = 'example.com';
  const TOKEN = 'cf-token-shape-0000000000000000000000';
  let fake: CloudflareFake;
  before(async () => {
    fake = await startCloudflareFake({ token: TOKEN, zones: [ZONE] });
  });
  after(async () => {
    await fake?.stop();
  });

  it('writes the floor (60), and the next pass makes zero changes instead of failing forever', async () => {
    const d = createCloudflareDriver({ name: 'cf', settings: { tokenEnv: 'T', baseUrl: fake.url }, env: { T: TOKEN } }, { retry: { attempts: 1, baseDelayMs: 1 } });
    const zones = { [ZONE]: [markerRecord(`www.${ZONE}`, 'A', 'me', 30), rs(`www.${ZONE}`, 30)] };
    const opts = { drivers: [d], zones, ownerId: 'me', maxRemoveShare: 1 };
    try {
      const first = await reconcileAll(opts);
      assert.equal(first[0].ok, true, first[0].error);
      assert.equal(first[0].applied, 2);
      const held = (await d.listRecords(ZONE)).filter((r) => r.name === `www.${ZONE}`);
      assert.deepEqual(held.map((r) => r.ttl), [60]);
      const second = await reconcileAll(opts);
      assert.equal(second[0].ok, true, second[0].error);
      assert.deepEqual(second[0].plan?.changes, []);
    } finally {
      await d.close?.();
    }
  });
});
