import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { REPO, runCli } from '../support/run-cli.ts';

/** `flotilla status` (text and JSON) says so when every mirror is down and the last good set is kept. */
describe('flotilla status when failing open', { timeout: 60_000 }, () => {
  it('prints FAIL OPEN with the set kept, and the JSON says degraded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-status-'));
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    const stack = join(dir, 'stacks', 'Pulumi.s.yaml');
    writeFileSync(stack, `config:
  flotilla:fleet:
    site: { name: s, contentDir: ${join(REPO, 'site')} }
    domain: status.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.61 }
      - { name: m2, provider: local, ipv4: 127.0.0.62 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: 5399 } }
    state: { path: ${join(dir, 'state')} }
`);
    const down = { state: 'down' as const, successStreak: 0, failureStreak: 5, recentFlips: [], lastReason: 'refused' };
    await updateState(new FileStateStore(join(dir, 'state')), (s) => { s.health = { m1: { ...down }, m2: { ...down } }; s.lastGood = ['m1', 'm2']; });
    const text = await runCli(['status', '--config', stack], { cwd: dir });
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /FAIL OPEN: every mirror looks down; serving the last good set \(m1, m2\)/);
    const json = JSON.parse((await runCli(['status', '--config', stack, '--json'], { cwd: dir })).stdout);
    assert.equal(json.failOpen, true);
    assert.equal(json.degraded, true);
  });
});
