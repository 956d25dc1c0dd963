/**
 * `flotilla apply` on a file-store stack refuses to be a second writer while a daemon saves on the same state (its
 * heartbeat is fresh and, on this host, its pid alive); a SIGKILLed daemon's fresh heartbeat does not block it; --force
 * writes anyway and the audit says beside whom. The embedded DNS server answers, so apply verifies for real.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { freePort } from '../support/ports.ts';
import { REPO, runCli } from '../support/run-cli.ts';

describe('flotilla apply beside a running daemon (file state)', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-apply-beside-'));
  const stack = join(dir, 'stacks', 'Pulumi.b.yaml');
  const store = () => new FileStateStore(join(dir, 'state'));
  const heartbeat = (pid: number) => updateState(store(), (s) => { s.controller = { at: Date.now(), host: hostname(), pid }; });
  const applied = async () => (await store().audit()).filter((e) => e.kind === 'decision' && /apply by hand/.test(e.message)).map((e) => e.message);
  let server: Awaited<ReturnType<typeof startEmbeddedDnsServer>> | undefined;

  before(async () => {
    const port = await freePort();
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    writeFileSync(stack, `config:
  flotilla:fleet:
    site: { name: b, contentDir: ${join(REPO, 'site')} }
    domain: beside.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.71 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${port} } }
    state: { path: ${join(dir, 'state')} }
`);
    server = await startEmbeddedDnsServer({ listen: '127.0.0.1', port, store: openZoneStore(join(dir, 'state', 'zones')) });
  });
  after(async () => {
    await server?.close();
  });

  it('a live daemon (this test process stands in for it): refused, exit 1, nothing audited, drain/failover and --force named', async () => {
    await heartbeat(process.pid);
    const r = await runCli(['apply', '--config', stack], { cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`a flotilla daemon \\(pid ${process.pid} on ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) runs on this stack's state .* would be a second writer beside it\\. Change what is served with drain or failover .* --force`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(await applied(), []);
  });

  it('a SIGKILLed daemon (fresh heartbeat, dead pid) does not block it', async () => {
    const dead = spawnSync('true').pid;
    assert.ok(dead);
    await heartbeat(dead);
    const r = await runCli(['apply', '--config', stack], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /second writer/);
    assert.equal((await applied()).length, 1);
  });

  it('--force writes beside the live daemon, and the audit says beside whom', async () => {
    await heartbeat(process.pid);
    const r = await runCli(['apply', '--config', stack, '--force'], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const all = await applied();
    assert.equal(all.length, 2);
    assert.match(all[1], new RegExp(`\\(--force, while a flotilla daemon \\(pid ${process.pid} on `));
  });
});
