/**
 * The inventory contract end to end without a cloud: the Pulumi program's stack outputs (under mocks) read back by
 * the same mapping `flotilla up` uses give every mirror its address, host id and digest.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inventoryFromOutputs } from '../../src/config/inventory-from-outputs.ts';
import { loadStack } from '../../src/config/load-stack.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { mockPreview, mockResource, type MockPreviewResult } from '../../src/infra/mock-preview.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FAKE = { FLOTILLA_SSH_KEY: 'fake-key', CLOUDFLARE_API_TOKEN: 'x', HCLOUD_TOKEN: 'x', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };

describe('stack outputs of the example stack → mirror inventory', () => {
  let spec: FleetSpec;
  let stateDir: string;
  let result: MockPreviewResult;
  before(async () => {
    Object.assign(process.env, FAKE);
    spec = await loadStack({ stack: 'example', cwd: ROOT });
    stateDir = await mkdtemp(join(tmpdir(), 'flotilla-inventory-outputs-'));
    spec.state.path = stateDir;
    result = await mockPreview({ spec });
  });
  after(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('every mirror: address, resource id of the cloud hosts, the site digest', () => {
    // what `pulumi stack output --json` prints is the outputs as JSON
    const inv = inventoryFromOutputs(JSON.stringify(result.outputs), spec, 42, 'mock outputs');
    const ec2 = mockResource('aws:ec2/instance:Instance', 'aws-fra-host', {});
    const eip = mockResource('aws:ec2/eip:Eip', 'aws-fra-ip', {});
    const hz = mockResource('hcloud:index/server:Server', 'hetzner-nbg-host', {});
    const hzIp = mockResource('hcloud:index/primaryIp:PrimaryIp', 'hetzner-nbg-ipv4', {});
    // the stable addresses: the Elastic IP on AWS, the Primary IP on Hetzner (not the instance's own)
    assert.deepEqual(inv.mirrors['aws-fra'], { provider: 'aws', ipv4: String(eip.state.publicIp), resourceId: ec2.id, digest: spec.site.digest, at: 42, source: 'pulumi' });
    assert.equal(inv.mirrors['hetzner-nbg'].resourceId, hz.id);
    assert.equal(inv.mirrors['hetzner-nbg'].ipv4, String(hzIp.state.ipAddress));
    assert.deepEqual(inv.mirrors['box-ams'], { provider: 'ssh', ipv4: '203.0.113.10', resourceId: 'ssh:203.0.113.10', digest: spec.site.digest, at: 42, source: 'pulumi' });
  });
});
