import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySummary } from '../../src/certs/cert-deploy.ts';
import { deployTargets } from '../../src/certs/deploy-targets.ts';
import type { MirrorSpec } from '../../src/domain/fleet-spec.ts';
import { emptyInventory, notProvisionedReason, type Inventory } from '../../src/domain/inventory.ts';
import { mirrorSshKeyEnv, mirrorSshUser } from '../../src/domain/mirror-login.ts';

const mirrors: MirrorSpec[] = [
  { name: 'box', provider: 'ssh', ipv4: '192.0.2.10', settings: { sshUser: 'deploy', sshKeyEnv: 'BOX_KEY' } },
  { name: 'fra', provider: 'aws', settings: { region: 'eu-central-1' } },
  { name: 'nyc', provider: 'aws', settings: { region: 'us-east-1', image: 'ubuntu-24.04' } },
  { name: 'hel', provider: 'hcloud', settings: { region: 'hel1' } },
  { name: 'new', provider: 'hcloud', settings: { region: 'fsn1' } },
  { name: 'dev', provider: 'local', ipv4: '127.0.0.1', settings: {} },
];
const inventory: Inventory = {
  updatedAt: 1,
  stack: 'prod',
  mirrors: {
    fra: { provider: 'aws', ipv4: '198.51.100.1', at: 1, source: 'pulumi' },
    nyc: { provider: 'aws', ipv6: '2001:db8::7', at: 1, source: 'pulumi' },
    hel: { provider: 'hcloud', ipv4: '198.51.100.2', at: 1, source: 'pulumi' },
    new: { provider: 'hcloud', at: 1, source: 'pulumi' },
  },
};

describe('certificate deploy targets (stack file + inventory → who gets the certificate, how)', () => {
  it('every provisioned ssh/aws/hcloud mirror, addresses from the stack file or the inventory, with the Pulumi login', () => {
    const { targets, skipped } = deployTargets({ mirrors, deploy: { sshKeyEnv: 'FLEET_KEY' } }, inventory);
    assert.deepEqual(targets, [
      { mirror: 'box', provider: 'ssh', host: '192.0.2.10', port: 22, user: 'deploy', keyEnv: 'BOX_KEY', addressFrom: 'stack-file' },
      { mirror: 'fra', provider: 'aws', host: '198.51.100.1', port: 22, user: 'admin', keyEnv: 'FLEET_KEY', addressFrom: 'pulumi' },
      { mirror: 'nyc', provider: 'aws', host: '2001:db8::7', port: 22, user: 'ubuntu', keyEnv: 'FLEET_KEY', addressFrom: 'pulumi' },
      { mirror: 'hel', provider: 'hcloud', host: '198.51.100.2', port: 22, user: 'root', keyEnv: 'FLEET_KEY', addressFrom: 'pulumi' },
    ]);
    assert.deepEqual(skipped, [
      { mirror: 'new', reason: notProvisionedReason('new') },
      { mirror: 'dev', reason: 'a local mirror (a process on this machine) has no nginx to deploy to' },
    ]);
  });

  it('without an inventory the cloud hosts are skipped as not provisioned (never deployed to a guessed address)', () => {
    for (const inv of [undefined, emptyInventory()]) {
      const { targets, skipped } = deployTargets({ mirrors, deploy: { sshKeyEnv: 'FLEET_KEY' } }, inv);
      assert.deepEqual(targets.map((t) => t.mirror), ['box']);
      assert.deepEqual(skipped.map((s) => s.mirror), ['fra', 'nyc', 'hel', 'new', 'dev']);
      assert.match(skipped[0].reason, /fra is not provisioned/);
    }
  });

  it('an ssh mirror without sshKeyEnv is skipped with why; sshPort in settings overrides 22', () => {
    const { targets, skipped } = deployTargets({ mirrors: [{ name: 'a', provider: 'ssh', ipv4: '192.0.2.1', settings: { sshPort: 2222, sshKeyEnv: 'K' } }, { name: 'b', provider: 'ssh', ipv4: '192.0.2.2', settings: {} }] }, undefined);
    assert.equal(targets[0].port, 2222);
    assert.equal(targets[0].user, 'root');
    assert.deepEqual(skipped, [{ mirror: 'b', reason: 'no sshKeyEnv: the environment variable holding its SSH key' }]);
  });

  it('the login rule: sshUser wins; aws image default user; hcloud/ssh root; cloud hosts take the stack deploy key', () => {
    assert.equal(mirrorSshUser({ provider: 'aws', settings: { image: 'ami-123', sshUser: 'ec2-user' } }), 'ec2-user');
    assert.equal(mirrorSshUser({ provider: 'aws', settings: { image: 'Ubuntu' } }), 'ubuntu');
    assert.equal(mirrorSshUser({ provider: 'aws', settings: {} }), 'admin');
    assert.equal(mirrorSshUser({ provider: 'hcloud', settings: {} }), 'root');
    assert.equal(mirrorSshKeyEnv({ provider: 'hcloud', settings: { sshKeyEnv: 'OWN' } }, {}), 'FLOTILLA_DEPLOY_KEY');
    assert.equal(mirrorSshKeyEnv({ provider: 'ssh', settings: { sshKeyEnv: 'OWN' } }, { deploy: { sshKeyEnv: 'FLEET' } }), 'OWN');
  });

  it('the summary says "every mirror" only when nothing was skipped or failed', () => {
    assert.equal(deploySummary([{ mirror: 'a', ok: true }]), 'deployed to every mirror (a)');
    assert.equal(
      deploySummary([{ mirror: 'a', ok: true }, { mirror: 'b', ok: true, skipped: true, error: 'b is not provisioned' }, { mirror: 'c', ok: false, error: 'exit 3' }]),
      'deployed to 1 of 3 mirrors (a); skipped: b (b is not provisioned); failed: c',
    );
  });
});
