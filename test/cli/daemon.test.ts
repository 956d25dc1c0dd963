import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { unknownHealth } from '../../src/domain/health.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { startEmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { freePort } from '../support/ports.ts';
import { BIN, REPO, runCli } from '../support/run-cli.ts';

/** `flotilla daemon` as a real process: SIGHUP reload (bad file rejected), SIGTERM clean stop, SIGKILL loses nothing. */
describe('flotilla daemon', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-daemon-'));
  const stackFile = join(dir, 'stacks', 'Pulumi.d.yaml');
  let mirrors: MirrorServer[] = [];
  let dnsPort = 0;
  let stackText = '';
  const daemons: ChildProcess[] = [];

  before(async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    mirrors = await Promise.all(['127.0.0.21', '127.0.0.22'].map((host) => startMirror({ host, port: 0, contentDir: join(REPO, 'site') })));
    dnsPort = await freePort();
    stackText = `config:
  flotilla:fleet:
    site: { name: d, contentDir: ${join(REPO, 'site')} }
    domain: daemon.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.21, health: { port: ${mirrors[0].port} } }
      - { name: m2, provider: local, ipv4: 127.0.0.22, health: { port: ${mirrors[1].port} } }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${dnsPort} } }
    health: { interval: 250ms, timeout: 200ms, rise: 2, fall: 3 }
    state: { path: ${join(dir, 'state')} }
`;
    writeFileSync(stackFile, stackText);
  });
  // whatever a test's outcome, its daemon is gone before the next test starts (it holds the DNS port)
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((c) => stopChild(c)));
  });
  after(async () => {
    await Promise.all(mirrors.map((m) => m.stop()));
  });

  function startDaemon() {
    const child = spawnTracked(process.execPath, [BIN, 'daemon', '--config', stackFile, '--no-http'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    daemons.push(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const waitFor = async (re: RegExp, ms = 30_000) => {
      const t0 = Date.now();
      while (!re.test(out)) {
        if (Date.now() - t0 > ms) assert.fail(`daemon never printed ${re}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    return { child, exited, waitFor, output: () => out };
  }

  const answer = async () => {
    const r = await queryDns({ server: `127.0.0.1:${dnsPort}`, name: 'daemon.test', type: 'A', timeoutMs: 500 });
    return r.ok ? r.answers.map((a) => a.value).sort() : [];
  };

  it('serves, reloads on SIGHUP (a bad file is rejected and the old spec kept), and stops cleanly on SIGTERM', async () => {
    const d = startDaemon();
    await d.waitFor(/verify: embedded: all 1 authoritative server/);
    assert.deepEqual(await answer(), ['127.0.0.21', '127.0.0.22']);
    writeFileSync(stackFile, stackText.replace('rise: 2', 'rsie: 2'));
    d.child.kill('SIGHUP');
    await d.waitFor(/the stack file was rejected, keeping the running spec/);
    assert.match(d.output(), /rsie/);
    writeFileSync(stackFile, stackText);
    d.child.kill('SIGHUP');
    await d.waitFor(/stack file reloaded/);
    await mirrors[1].stop();
    await d.waitFor(/decision: serve m1 \(m2 down\)/);
    // the decision is logged before it is written: wait until the server is verified to answer it
    await d.waitFor(/verify: embedded: all 1 authoritative server\(s\) answer m1, \d+ms/);
    assert.deepEqual(await answer(), ['127.0.0.21']);
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0);
    const events = await new FileStateStore(join(dir, 'state')).audit();
    assert.equal(events.at(-1)?.message, 'controller stopped');
    assert.ok(events.some((e) => e.kind === 'error' && e.message.includes('rejected')));
    // what the embedded provider holds, read back through its driver
    const rec = await runCli(['records', '--config', stackFile, '--json'], { cwd: dir });
    assert.equal(rec.code, 0, rec.stderr);
    const held = JSON.parse(rec.stdout).providers[0].zones[0].records;
    assert.deepEqual(held.find((r: { name: string; type: string }) => r.name === 'daemon.test' && r.type === 'A').values, ['127.0.0.21']);
    assert.ok(held.some((r: { name: string }) => r.name === '_flotilla-a.daemon.test'));
    mirrors[1] = await startMirror({ host: '127.0.0.22', port: mirrors[1].port, contentDir: join(REPO, 'site') });
  });

  it('killed with SIGKILL while deciding and applying, it loses no audit entry it had reported', async () => {
    const d = startDaemon();
    await d.waitFor(/verify: embedded/);
    // make it busy: flip a mirror off and on while we kill it
    await mirrors[1].stop();
    await d.waitFor(/decision: serve m1/);
    mirrors[1] = await startMirror({ host: '127.0.0.22', port: mirrors[1].port, contentDir: join(REPO, 'site') });
    // kill it the moment it reports m2 back: the decision and the apply that follow the flip are in flight
    await d.waitFor(/flip: m2 is up/);
    d.child.kill('SIGKILL');
    await d.exited;
    const printed = d.output().split('\n').map((l) => /^\S+ (\w[\w-]*): (.*)$/.exec(l)).filter((m): m is RegExpExecArray => !!m);
    const events = await new FileStateStore(join(dir, 'state')).audit();
    const logged = new Set(events.map((e) => `${e.kind}: ${e.message}`));
    assert.ok(printed.length >= 3, d.output());
    for (const m of printed) if (!m[1].startsWith('SIG')) assert.ok(logged.has(`${m[1]}: ${m[2]}`), `printed but not in the audit log: ${m[0]}`);
    // and the store still works after the kill
    const status = await runCli(['status', '--config', stackFile, '--json'], { cwd: dir });
    assert.ok([0, 1].includes(status.code), status.stderr);
    assert.equal(JSON.parse(status.stdout).mirrors.length, 2);
  });

  it('apply writes the decision once by hand (dry run first) and verifies the server', async () => {
    const zones = openZoneStore(join(dir, 'state', 'zones'));
    const server = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: dnsPort, store: zones });
    try {
      // the daemon above was killed as m2 came back, maybe before it saved that: start from both mirrors up
      await updateState(new FileStateStore(join(dir, 'state')), (s) => {
        for (const m of ['m1', 'm2']) s.health[m] = { ...(s.health[m] ?? unknownHealth()), state: 'up' };
      });
      const drain = await runCli(['drain', 'm1', '--config', stackFile, '--reason', 'by hand'], { cwd: dir });
      assert.equal(drain.code, 0, drain.stderr);
      const dry = await runCli(['apply', '--config', stackFile, '--dry-run'], { cwd: dir });
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /update daemon\.test A 127\.0\.0\.22/);
      const before = await answer();
      assert.ok(before.includes('127.0.0.21'), `the dry run must change nothing, the server answers ${before}`);
      const real = await runCli(['apply', '--config', stackFile, '--json'], { cwd: dir });
      assert.equal(real.code, 0, real.stderr);
      const res = JSON.parse(real.stdout);
      assert.ok(res.verify.length === 1 && res.verify[0].converged, real.stdout);
      assert.deepEqual(await answer(), ['127.0.0.22']);
      const hist = JSON.parse((await runCli(['history', '--config', stackFile, '--json', '--since', '1h'], { cwd: dir })).stdout).events;
      assert.ok(hist.some((e: { kind: string; message: string }) => e.kind === 'apply' && /by hand/.test(e.message)));
    } finally {
      await server.close();
    }
  });
});
