/**
 * Publishing the signed manifest when a domain is lost: the guard's events go through the publisher into the real
 * FileStateStore (prune state, lost domains, the manifest and its sequence), a real demo mirror serves the document
 * at /.well-known/flotilla.json, and the real CLI verifies it with the pinned key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { siteServer } from '../../src/cli/demo/site-server.ts';
import { createManifestPublisher } from '../../src/cli/manifest-publisher.ts';
import { recordGuardEvent } from '../../src/delegation/delegation-record.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { manifestDeployFiles } from '../../src/manifest/manifest-files.ts';
import { generatePrivateKeyText, parsePrivateKey, publicKeyText, verifyManifest, parsePublicKey } from '../../src/manifest/manifest-signing.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { runCli } from '../support/run-cli.ts';

describe('manifest publisher: domain lost → next signed manifest on every mirror', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-publish-'));
  const content = mkdtempSync(join(tmpdir(), 'flotilla-site-'));
  const mirror = siteServer({ host: '127.0.0.1', port: 0, contentDir: content, manifest: () => served });
  let served: string | undefined;
  after(async () => {
    await mirror.kill();
    rmSync(dir, { recursive: true, force: true });
    rmSync(content, { recursive: true, force: true });
  });

  it('publishes sequence 1 at start, sequence 2 when a domain is lost; the mirror serves it and `manifest verify` accepts it', async () => {
    const key = generatePrivateKeyText();
    const pub = publicKeyText(parsePrivateKey(key, 'K'));
    const spec = fleetFixture({ domain: 'example.test', alternateDomains: ['example-mirror.test'], delegation: { parents: [], roots: [], nameserverPort: 53, nameservers: {}, rdapBootstrap: '', expiryWarnDays: 30, timeoutMs: 1000, intervalMs: 1000, pruneAfter: 2, restoreAfter: 2, manifestKeyEnv: 'SITE_KEY' } });
    const store = new FileStateStore(dir);
    const audits: Omit<AuditEvent, 'at'>[] = [];
    const make = () => createManifestPublisher({ spec, store, env: { SITE_KEY: key }, audit: async (e) => { audits.push(e); }, serve: (j) => { served = j; }, publishDir: join(dir, 'publish'), now: () => Date.parse('2026-12-02T10:00:00Z') });
    const p = make();
    await mirror.start();
    await p.start();
    const first = JSON.parse(served!);
    assert.equal(first.manifest.sequence, 1);
    assert.deepEqual(first.manifest.live, ['example.test', 'example-mirror.test']);

    await p.onEvent({ kind: 'prune', zone: 'example.test', message: 'pruned pdns', data: { pruned: ['pdns'], restored: [] } });
    assert.equal(JSON.parse(served!).manifest.sequence, 1, 'a prune is not a lost domain: no new manifest');
    await p.onEvent({ kind: 'lost', zone: 'example.test', message: 'example.test is lost', data: { state: 'delegation-gone', reason: 'the parent has no delegation for example.test' } });
    const st = await store.load();
    assert.equal(st.manifest?.sequence, 2, 'sequence persisted in the state store');
    assert.deepEqual(st.delegation?.pruned, { 'example.test': ['pdns'] });
    assert.equal(st.delegation?.lost['example.test']?.reason, 'the parent has no delegation for example.test');
    assert.ok(audits.some((a) => a.kind === 'manifest' && /sequence 2: live example-mirror\.test; lost example\.test/.test(a.message)), JSON.stringify(audits));

    const url = `http://127.0.0.1:${mirror.port}/.well-known/flotilla.json`;
    const v = await runCli(['manifest', 'verify', url, '--key', pub, '--json']);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const out = JSON.parse(v.stdout);
    assert.equal(out.manifest?.sequence ?? out.sequence, 2, v.stdout);
    assert.match(v.stdout, /example-mirror\.test/);
    const wrong = await runCli(['manifest', 'verify', url, '--key', publicKeyText(parsePrivateKey(generatePrivateKeyText(), 'K'))]);
    assert.equal(wrong.code, 1);

    // the same document in the publish dir (what a web server or the deploy step serves)
    assert.equal(readFileSync(join(dir, 'publish', '.well-known', 'flotilla.json'), 'utf8'), served);
    // a restart publishes nothing new: the sequence only moves when the standing does
    const again = make();
    await again.start();
    assert.equal(JSON.parse(again.current()!).manifest.sequence, 2);
    await again.onEvent({ kind: 'recovered', zone: 'example.test', message: 'back' });
    const back = JSON.parse(again.current()!);
    assert.equal(back.manifest.sequence, 3);
    assert.deepEqual(back.manifest.lost, []);
    assert.equal(verifyManifest(back, parsePublicKey(pub)).ok, true);
  });

  it('without the key: audited once, nothing published, nothing thrown', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'flotilla-publish-'));
    try {
      const audits: Omit<AuditEvent, 'at'>[] = [];
      const p = createManifestPublisher({ spec: fleetFixture(), store: new FileStateStore(d2), env: {}, audit: async (e) => { audits.push(e); } });
      await p.start();
      await p.onEvent({ kind: 'lost', zone: 'example.test', message: 'lost', data: {} });
      assert.equal(p.current(), undefined);
      assert.equal(audits.filter((a) => /FLOTILLA_MANIFEST_KEY is not set/.test(a.message)).length, 1);
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });
});

describe('delegation record and deploy files (pure)', () => {
  it('prune/restore keep the pruned providers; lost keeps its first time; dry runs change nothing', () => {
    let r = recordGuardEvent(undefined, { kind: 'prune', zone: 'a.test', message: '', data: { pruned: ['p2', 'p1'], restored: [] } }, 1);
    assert.deepEqual(r.pruned, { 'a.test': ['p1', 'p2'] });
    r = recordGuardEvent(r, { kind: 'restore', zone: 'a.test', message: '', data: { pruned: [], restored: ['p1'] } }, 2);
    assert.deepEqual(r.pruned, { 'a.test': ['p2'] });
    assert.equal(recordGuardEvent(r, { kind: 'prune', zone: 'a.test', message: '', data: { pruned: ['p3'], dryRun: true } }, 3), r);
    r = recordGuardEvent(r, { kind: 'lost', zone: 'a.test', message: 'm', data: { reason: 'gone' } }, 5);
    r = recordGuardEvent(r, { kind: 'lost', zone: 'a.test', message: 'm', data: { reason: 'gone again' } }, 9);
    assert.deepEqual(r.lost['a.test'], { since: 5, reason: 'gone' });
    r = recordGuardEvent(r, { kind: 'restore', zone: 'a.test', message: '', data: { restored: ['p2'] } }, 10);
    assert.deepEqual(r.pruned, {});
  });
  it('the files to deploy: the manifest under .well-known, nothing before one is published', () => {
    assert.deepEqual(manifestDeployFiles(undefined), []);
    assert.deepEqual(manifestDeployFiles('{"x":1}'), [{ path: '.well-known/flotilla.json', content: '{"x":1}', contentType: 'application/json' }]);
  });
});
