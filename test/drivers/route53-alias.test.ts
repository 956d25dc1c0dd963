/**
 * An alias record set already at a name flotilla is to write (a domain registered with Route 53 often has an apex
 * alias to CloudFront or a load balancer): the driver reports it once as a typed error with a stable code and sends
 * no change batch, instead of a batch Route 53 refuses on every reconcile (issue 9 item 3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import { createRoute53Driver } from '../../src/drivers/route53/route53-driver.ts';
import { Route53AliasConflictError } from '../../src/drivers/route53/route53-errors.ts';
import { markerRecord } from '../../src/planner/ownership.ts';
import { planChanges } from '../../src/planner/plan-changes.ts';
import { startRoute53Fake, type Route53Fake } from '../fakes/route53-fake.ts';

const KEY_ID = 'AKIAFAKE0000EXAMPLE2';
const SECRET = 'r53-secret-alias-0000000000000000000000';
const ZONE = 'example.org';

let fake: Route53Fake;
before(async () => {
  fake = await startRoute53Fake({ accessKeyId: KEY_ID, secretAccessKey: SECRET, zones: [ZONE], insyncAfterMs: 1 });
  fake.seedAlias(ZONE, ZONE, 'A', 'd111111abcdef8.cloudfront.net');
});
after(async () => {
  await fake?.stop();
});

describe('route53 apex alias', () => {
  it('is listed as a foreign RRset: the plan leaves the apex alone (one conflict) and still writes every other name', async () => {
    const d = createRoute53Driver(
      { name: 'r53', settings: { accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S', region: 'us-east-1', endpoint: fake.url }, env: { K: KEY_ID, S: SECRET } },
      { retry: { attempts: 1 }, pollIntervalMs: 5 },
    );
    const current = await d.listRecords(ZONE);
    assert.deepEqual(current.find((r) => r.name === ZONE && r.type === 'A')?.values, ['alias d111111abcdef8.cloudfront.net']);
    const desired = [ZONE, `app.${ZONE}`].flatMap((n) => [markerRecord(n, 'A', 'o', 60), { name: n, type: 'A' as const, ttl: 60, values: ['192.0.2.10'] }]);
    const plan = planChanges(current, desired, { ownerId: 'o', maxRemoveShare: 0.5 });
    assert.deepEqual(plan.conflicts.map((c) => c.key), [`${ZONE}/A`]);
    assert.ok(plan.changes.every((c) => c.action === 'create' && c.after.name.endsWith(`app.${ZONE}`)), JSON.stringify(plan.changes));
    const before = fake.changeRequests;
    await d.applyChanges(ZONE, plan.changes);
    assert.equal(fake.changeRequests, before + 1, 'one batch, accepted');
    const again = planChanges(await d.listRecords(ZONE), desired, { ownerId: 'o', maxRemoveShare: 0.5 });
    assert.deepEqual(again.changes, [], 'converged: nothing fails and nothing is resent on the next pass');
    assert.equal(fake.sets(ZONE).find((s) => s.name === `${ZONE}.` && s.type === 'A')?.alias?.dnsName, 'd111111abcdef8.cloudfront.net.', 'the alias is untouched');
    await d.close?.();
  });


  it('a change forced onto it anyway is a Route53AliasConflictError (DRIVER_CONFLICT, not retryable) and no batch is sent, every time', async () => {
    const d = createRoute53Driver(
      { name: 'r53', settings: { accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S', region: 'us-east-1', endpoint: fake.url }, env: { K: KEY_ID, S: SECRET } },
      { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, pollIntervalMs: 5 },
    );
    const change = { action: 'create' as const, after: { name: ZONE, type: 'A' as const, ttl: 60, values: ['192.0.2.10'] } };
    for (let i = 0; i < 2; i++) {
      const before = fake.changeRequests;
      await assert.rejects(d.applyChanges(ZONE, [change]), (e: unknown) => {
        assert.ok(e instanceof Route53AliasConflictError);
        assert.ok(e instanceof DriverError);
        assert.equal(e.code, 'DRIVER_CONFLICT');
        assert.equal(e.retryable, false);
        assert.deepEqual(e.names, [`${ZONE}/A`]);
        assert.match(e.message, /alias .*example\.org\/A.*Delete that alias/);
        return true;
      });
      assert.equal(fake.changeRequests, before, 'no ChangeResourceRecordSets was sent');
    }
    // other names still work
    await d.applyChanges(ZONE, [{ action: 'create', after: { name: `www.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.10'] } }]);
    await d.close?.();
  });
});
