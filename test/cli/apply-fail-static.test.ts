import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { REPO, runCli } from '../support/run-cli.ts';

/** `flotilla apply` honours the daemon's fail-static rail: every canary failing, it writes nothing. */
describe('flotilla apply when cut off', { timeout: 60_000 }, () => {
  it('refuses (exit 1), audits nothing, and names --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-apply-'));
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    const stack = join(dir, 'stacks', 'Pulumi.a.yaml');
    writeFileSync(stack, `config:
  flotilla:fleet:
    site: { name: a, contentDir: ${join(REPO, 'site')} }
    domain: apply.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.71 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: 5398 } }
    canaries: [{ target: "127.0.0.1:1" }]
    state: { path: ${join(dir, 'state')} }
`);
    const r = await runCli(['apply', '--config', stack], { cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /fail static: every canary failed .*--force/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(await new FileStateStore(join(dir, 'state')).audit(), []);
  });
});
