/** `flotilla daemon` with the delegation watch on publishes the signed manifest at start (the daemon's own wiring). */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generatePrivateKeyText, parsePrivateKey, parsePublicKey, publicKeyText, verifyManifest } from '../../src/manifest/manifest-signing.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { freePort } from '../support/ports.ts';
import { BIN, REPO } from '../support/run-cli.ts';

describe('flotilla daemon: signed manifest', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-daemon-manifest-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <state>/publish/.well-known/flotilla.json, sequence 1, signed with the key from delegation.manifestKeyEnv', async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    const [dnsPort, parentPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'stacks', 'Pulumi.m.yaml'), `config:
  flotilla:fleet:
    site: { name: m, contentDir: ${join(REPO, 'site')} }
    domain: manifest.test
    alternateDomains: [manifest-alt.test]
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.21, health: { port: 9 } }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${dnsPort} } }
    state: { path: ${join(dir, 'state')} }
    delegation: { interval: 1s, parents: [127.0.0.1:${parentPort}], rdapBootstrap: ${join(dir, 'none.json')}, manifestKeyEnv: SITE_MANIFEST_KEY }
`);
    const key = generatePrivateKeyText();
    const child = spawnTracked(process.execPath, [BIN, 'daemon', '--config', join(dir, 'stacks', 'Pulumi.m.yaml'), '--no-http'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SITE_MANIFEST_KEY: key } });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    try {
      const t0 = Date.now();
      while (!/manifest: published the signed manifest, sequence 1: live manifest\.test, manifest-alt\.test/.test(out)) {
        if (Date.now() - t0 > 30_000) assert.fail(`no manifest published:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const doc = JSON.parse(readFileSync(join(dir, 'state', 'publish', '.well-known', 'flotilla.json'), 'utf8'));
      const check = verifyManifest(doc, parsePublicKey(publicKeyText(parsePrivateKey(key, 'k'))));
      assert.ok(check.ok, JSON.stringify(check));
      assert.equal(check.ok && check.manifest.sequence, 1);
    } finally {
      await stopChild(child);
    }
  });
});
