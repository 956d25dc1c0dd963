/**
 * The published manifest reaches every mirror through the deploy step (issue 12 × issue 9): with a manifest in the
 * daemon's state, each mirror's install command writes /.well-known/flotilla.json into the release, byte for byte;
 * a new manifest sequence changes the copy and the command (Pulumi updates both, so `pulumi up` re-deploys) while the
 * host trigger stays. Under pulumi.runtime.setMocks, in its own process (setMocks is process-global).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadStack } from '../../src/config/load-stack.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { mockPreview, type MockPreviewResult } from '../../src/infra/mock-preview.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const MIRRORS = ['aws-fra', 'hetzner-nbg', 'box-ams'];

let dir: string;
let spec: FleetSpec;

before(async () => {
  process.env.FLOTILLA_SSH_KEY = KEY;
  process.env.FLOTILLA_DEPLOY_KEY = KEY;
  dir = await mkdtemp(join(tmpdir(), 'flotilla-preview-manifest-'));
  spec = await loadStack({ stack: 'example', cwd: ROOT });
  spec.state.path = dir;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A served document as the publisher stores it (any bytes: the deploy step must not touch them). */
const served = (sequence: number) => `${JSON.stringify({ manifest: { v: 1, site: 'example', sequence, live: ['example.org'], lost: [{ domain: 'example.net', reason: 'délégation retirée' }] }, signature: 'c2ln', keyId: '0123456789abcdef' }, null, 2)}\n`;

async function previewWith(manifest?: { sequence: number; json: string }): Promise<MockPreviewResult> {
  await writeFile(join(dir, 'state.json'), JSON.stringify({ version: 3, updatedAt: 0, providers: {}, health: {}, overrides: [], lastGood: [], ...(manifest ? { manifest: { ...manifest, publishedAt: 0 } } : {}) }));
  return mockPreview({ spec });
}

const step = (r: MockPreviewResult, mirror: string) => {
  const install = r.resources.find((x) => x.type === 'command:remote:Command' && x.name === `${mirror}-site-install`);
  const copy = r.resources.find((x) => x.type === 'command:remote:CopyToRemote' && x.name === `${mirror}-site-copy`);
  assert.ok(install && copy, `${mirror}: deploy step registered`);
  return { create: String(install.inputs.create), triggers: install.inputs.triggers, remotePath: String(copy.inputs.remotePath), copyTriggers: copy.inputs.triggers };
};

/** The bytes the install script writes to `path` inside the release (its base64 heredoc), or undefined. */
function installedFile(create: string, path: string): Buffer | undefined {
  // the script is the argument of `sh -c '…'`: its own quotes appear as '\''
  const m = new RegExp(`base64 -d > [^\\n]*/[^\\n/]*${path.replace(/\./g, '\\.')}[^\\n]*<<[^\\n]*FLOTILLA_FILE_EOF[^\\n]*\\n([A-Za-z0-9+/=\\n]*?)\\nFLOTILLA_FILE_EOF`).exec(create);
  return m ? Buffer.from(m[1].replace(/\n/g, ''), 'base64') : undefined;
}

describe('the deploy step carries the published manifest', () => {
  it('no manifest published: nothing but the site', async () => {
    const r = await previewWith();
    for (const m of MIRRORS) assert.equal(installedFile(step(r, m).create, '.well-known/flotilla.json'), undefined, m);
  });

  it('every mirror (aws, hcloud, ssh) installs /.well-known/flotilla.json byte for byte, named by its sequence', async () => {
    const r = await previewWith({ sequence: 4, json: served(4) });
    for (const m of MIRRORS) {
      const s = step(r, m);
      assert.deepEqual(installedFile(s.create, '.well-known/flotilla.json'), Buffer.from(served(4), 'utf8'), m);
      assert.match(s.create, /with manifest sequence 4 to /, m);
    }
  });

  it('a new sequence changes the copy and the install command (an update: pulumi up re-deploys), not the host trigger', async () => {
    const before = await previewWith({ sequence: 4, json: served(4) });
    const after = await previewWith({ sequence: 5, json: served(5) });
    for (const m of MIRRORS) {
      const a = step(before, m);
      const b = step(after, m);
      assert.notEqual(b.create, a.create, m);
      assert.notEqual(b.remotePath, a.remotePath, `${m}: a new release, so the copy re-runs (the last upload is gone)`);
      assert.deepEqual(b.triggers, a.triggers, `${m}: no replacement (its delete would run)`);
      assert.deepEqual(b.copyTriggers, a.copyTriggers);
      assert.deepEqual(installedFile(b.create, '.well-known/flotilla.json'), Buffer.from(served(5), 'utf8'));
    }
  });
});
