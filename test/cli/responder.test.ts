import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { REPO, runCli } from '../support/run-cli.ts';

/** The responder commands against a real stack file, real mirrors and the file state store. */
describe('responder CLI: check, drain, undrain, failover, clear, history, status, records', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-responder-'));
  const file = join(dir, 'stacks', 'Pulumi.r.yaml');
  let mirrors: MirrorServer[] = [];
  const cli = (...args: string[]) => runCli([...args, '--config', file], { cwd: dir, env: { FLOTILLA_AUTHOR: 'ana' } });

  before(async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    mirrors = await Promise.all(['127.0.0.51', '127.0.0.52'].map((host) => startMirror({ host, port: 0, contentDir: join(REPO, 'site') })));
    writeFileSync(file, `config:
  flotilla:fleet:
    site: { name: r, contentDir: ${join(REPO, 'site')} }
    domain: responder.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.51, health: { port: ${mirrors[0].port} } }
      - { name: m2, provider: local, ipv4: 127.0.0.52, health: { port: ${mirrors[1].port} } }
    dnsProviders:
      - { name: embedded, kind: local, settings: { port: 1 } }
    health: { interval: 250ms, timeout: 200ms }
    state: { path: ${join(dir, 'state')} }
`);
  });
  after(async () => {
    await Promise.all(mirrors.map((m) => m.stop()));
  });

  it('check probes every mirror once: exit 0 when all pass, 1 with the reason when one fails', async () => {
    const ok = await cli('check', '--json');
    assert.equal(ok.code, 0, ok.stderr);
    const results = JSON.parse(ok.stdout).results;
    assert.deepEqual(results.map((r: { ok: boolean }) => r.ok), [true, true]);
    const wrong = await startMirror({ host: '127.0.0.52', port: 0, contentDir: join(REPO, 'site'), mode: 'wrong-bytes' });
    try {
      const port = mirrors[1].port;
      await mirrors[1].stop();
      const bad = await cli('check');
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /m2\s+127\.0\.0\.52\s+FAIL.*refused/);
      mirrors[1] = await startMirror({ host: '127.0.0.52', port, contentDir: join(REPO, 'site') });
    } finally {
      await wrong.stop();
    }
  });

  it('drain with a reason and expiry, refusals for the last mirror and unknown names, undrain, failover, clear', async () => {
    const d = await cli('drain', 'm1', '--reason', 'kernel upgrade', '--for', '1h', '--json');
    assert.equal(d.code, 0, d.stderr);
    assert.equal(JSON.parse(d.stdout).override.author, 'ana');

    const last = await cli('drain', 'm2', '--reason', 'oops');
    assert.equal(last.code, 2);
    assert.match(last.stderr, /last serving mirror/);
    assert.match(last.stderr, /force/);

    const unknown = await cli('drain', 'm9', '--reason', 'x');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /known mirrors: m1, m2/);

    const noReason = await cli('drain', 'm2');
    assert.equal(noReason.code, 2);
    assert.match(noReason.stderr, /--reason/);

    const st = JSON.parse((await cli('status', '--json')).stdout);
    assert.deepEqual(st.overrides.map((o: { kind: string; mirror: string }) => `${o.kind} ${o.mirror}`), ['drain m1']);
    assert.deepEqual(st.serving, ['m2']);

    assert.equal((await cli('undrain', 'm1')).code, 0);
    const f = await cli('failover', '--to', 'm1', '--reason', 'm2 serves a stale release', '--for', '30m');
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual(JSON.parse((await cli('status', '--json')).stdout).serving, ['m1']);
    assert.equal((await cli('clear', 'm1')).code, 0);
    assert.deepEqual(JSON.parse((await cli('status', '--json')).stdout).serving, ['m1', 'm2']);

    const h = await cli('history', '--since', '1h', '--kind', 'override', '--json');
    const msgs = JSON.parse(h.stdout).events.map((e: { actor: string; message: string }) => `${e.actor}: ${e.message}`);
    assert.equal(msgs.length, 4, msgs.join('\n'));
    assert.ok(msgs.every((m: string) => m.startsWith('ana: ')));
    assert.match(msgs[0], /kernel upgrade/);
    const badSince = await cli('history', '--since', 'yesterday');
    assert.equal(badSince.code, 2);
  });

  it('records names the provider and zone when the zone does not exist yet', async () => {
    const r = await cli('records', '--json');
    assert.equal(r.code, 1);
    const z = JSON.parse(r.stdout).providers[0].zones[0];
    assert.match(z.error, /embedded.*responder\.test/);
  });
});
