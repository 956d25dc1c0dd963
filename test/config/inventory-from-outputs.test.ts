import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inventoryFromOutputs } from '../../src/config/inventory-from-outputs.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import type { MirrorSpec } from '../../src/domain/fleet-spec.ts';

const D = 'a'.repeat(64);
const spec = {
  stack: 'example',
  mirrors: [
    { name: 'aws-fra', provider: 'aws', settings: {} },
    { name: 'hetzner-nbg', provider: 'hcloud', settings: {} },
    { name: 'box-ams', provider: 'ssh', ipv4: '203.0.113.10', settings: {} },
  ] as MirrorSpec[],
};
const SRC = 'pulumi stack output --json --stack example';

/** What `pulumi stack output --json` prints for the program's outputs (fleet-program.ts). */
const outputs = (mirrors: Record<string, unknown>, extra: Record<string, unknown> = {}) => JSON.stringify({ siteDigest: D, mirrors, serving: ['aws-fra'], ...extra });

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    assert.equal(e.exitCode, 2);
    assert.equal(e.file, SRC);
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('no error');
}

describe('stack outputs → mirror inventory (pure)', () => {
  it('maps each mirror: addresses (IPv6 canonical), host kind, resource id, digest, when', () => {
    const inv = inventoryFromOutputs(outputs({
      'aws-fra': { provider: 'aws', ipv4: '198.51.100.7', ipv6: '2001:DB8:0::7', resourceId: 'i-0abc', digest: 'b'.repeat(64) },
      'hetzner-nbg': { provider: 'hcloud', ipv4: '198.51.100.8', ipv6: null, resourceId: 4711 },
      'box-ams': { provider: 'ssh', ipv4: '203.0.113.10', ipv6: null, resourceId: null },
    }), spec, 1234, SRC);
    assert.deepEqual(inv, {
      updatedAt: 1234,
      stack: 'example',
      mirrors: {
        'aws-fra': { provider: 'aws', ipv4: '198.51.100.7', ipv6: '2001:db8::7', resourceId: 'i-0abc', digest: 'b'.repeat(64), at: 1234, source: 'pulumi' },
        // no digest of its own: the site digest output
        'hetzner-nbg': { provider: 'hcloud', ipv4: '198.51.100.8', resourceId: '4711', digest: D, at: 1234, source: 'pulumi' },
        'box-ams': { provider: 'ssh', ipv4: '203.0.113.10', digest: D, at: 1234, source: 'pulumi' },
      },
    });
  });

  it('a mirror whose address is null, empty or missing has none (not provisioned), and one absent from the outputs is not in it', () => {
    const inv = inventoryFromOutputs(outputs({ 'aws-fra': { provider: 'aws', ipv4: null, ipv6: '' } }), spec, 1, SRC);
    assert.deepEqual(Object.keys(inv.mirrors), ['aws-fra']);
    assert.equal(inv.mirrors['aws-fra'].ipv4, undefined);
    assert.equal(inv.mirrors['aws-fra'].ipv6, undefined);
  });

  it('a stack without outputs (never deployed, or destroyed) knows no host', () => {
    assert.deepEqual(inventoryFromOutputs('{}\n', spec, 7, SRC), { updatedAt: 7, stack: 'example', mirrors: {} });
  });

  it('text that is not JSON is a clear error naming the command', () => {
    assert.match(problems(() => inventoryFromOutputs('error: no stack named example found\n', spec, 1, SRC)).join('\n'), /\(whole output\): expected the JSON of `pulumi stack output --json`/);
  });

  it('outputs of another shape name every problem with its path', () => {
    assert.match(problems(() => inventoryFromOutputs(JSON.stringify({ siteDigest: D }), spec, 1, SRC)).join('\n'), /^mirrors: /m);
    assert.match(problems(() => inventoryFromOutputs('[]', spec, 1, SRC)).join('\n'), /\(whole output\)/);
    const p = problems(() => inventoryFromOutputs(outputs({ 'aws-fra': { provider: 'aws', ipv4: '300.1.2.3', digest: 'xyz' }, 'hetzner-nbg': { provider: 'gcp' } }), spec, 1, SRC)).join('\n');
    assert.match(p, /mirrors\.aws-fra\.ipv4: .*IPv4/);
    assert.match(p, /mirrors\.aws-fra\.digest: .*sha256/);
    assert.match(p, /mirrors\.hetzner-nbg\.provider/);
  });

  it('a mirror the stack file does not have, or of another host kind, is refused (wrong stack?)', () => {
    const p = problems(() => inventoryFromOutputs(outputs({ 'gcp-1': { provider: 'aws', ipv4: '198.51.100.1' }, 'box-ams': { provider: 'aws', ipv4: '203.0.113.10' } }), spec, 1, SRC)).join('\n');
    assert.match(p, /mirrors\.gcp-1: a mirror the stack file of example does not have/);
    assert.match(p, /mirrors\.box-ams\.provider: expected ssh \(as in the stack file\), found aws/);
  });
});
