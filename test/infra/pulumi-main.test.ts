/**
 * The entry the Pulumi runtime loads (src/infra/pulumi-main.ts), run under mocks the way the runtime would: the stack
 * name comes from the runtime, the module has only a default export, and what it returns becomes the stack outputs.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../../src/domain/errors.ts';
import { mockCall, mockResource } from '../../src/infra/mock-preview.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('pulumi-main', () => {
  it('has only a default export (the nodejs runtime refuses a module with both kinds)', async () => {
    const mod = await import('../../src/infra/pulumi-main.ts');
    assert.deepEqual(Object.keys(mod), ['default']);
    assert.equal(typeof mod.default, 'function');
  });

  it('loads stacks/Pulumi.<current stack>.yaml and returns the stack outputs', async () => {
    const types: string[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (a) => (types.push(a.type), mockResource(a.type, a.name, a.inputs)),
        call: (a) => mockCall(a.token, a.inputs),
      },
      'flotilla',
      'example',
      false,
    );
    const { default: main } = await import('../../src/infra/pulumi-main.ts');

    delete process.env.FLOTILLA_SSH_KEY;
    delete process.env.FLOTILLA_DEPLOY_KEY;
    const before = types.length;
    await assert.rejects(
      main(),
      (e: unknown) => e instanceof ConfigError && e.message.includes('FLOTILLA_DEPLOY_KEY'),
      'a real run without the deploy key fails, naming the variable',
    );
    process.env.FLOTILLA_DEPLOY_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await assert.rejects(
      main(),
      (e: unknown) => e instanceof ConfigError && e.message.includes('FLOTILLA_SSH_KEY'),
      'a real run without the SSH key fails, naming the variable',
    );
    assert.equal(types.length, before, 'and registers nothing: the spec is checked before any resource');

    process.env.FLOTILLA_SSH_KEY = 'fake-key-for-main-test';
    const outputs = (await pulumi.runtime.runInPulumiStack(() => main())) as Record<string, unknown>;
    const { loadStack } = await import('../../src/config/load-stack.ts');
    const spec = await loadStack({ stack: 'example', cwd: ROOT });
    assert.equal(outputs.siteDigest, spec.site.digest);
    assert.ok(types.includes('aws:ec2/instance:Instance'));
    assert.ok(types.includes('command:remote:Command'));
  });
});
