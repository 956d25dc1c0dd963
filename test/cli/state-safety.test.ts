import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { emptyState } from '../../src/domain/state.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { REPO, runCli } from '../support/run-cli.ts';

/** Commands never lose or silently rewrite state: read-only commands write nothing, bad state is refused, audit comes first. */
describe('CLI: state is never lost or silently wrong', { timeout: 300_000 }, () => {
  let mirrors: MirrorServer[] = [];
  before(async () => {
    mirrors = await Promise.all(['127.0.0.61', '127.0.0.62'].map((host) => startMirror({ host, port: 0, contentDir: join(REPO, 'site') })));
  });
  after(async () => {
    await Promise.all(mirrors.map((m) => m.stop()));
  });

  /** A fresh stack file with its own state directory. */
  function stack() {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-state-safety-'));
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    const file = join(dir, 'stacks', 'Pulumi.s.yaml');
    const state = join(dir, 'state');
    writeFileSync(file, `config:
  flotilla:fleet:
    site: { name: s, contentDir: ${join(REPO, 'site')} }
    domain: safety.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.61, health: { port: ${mirrors[0].port} } }
      - { name: m2, provider: local, ipv4: 127.0.0.62, health: { port: ${mirrors[1].port} } }
    dnsProviders:
      - { name: embedded, kind: local, settings: { port: 1 } }
    health: { interval: 5s, timeout: 3s }
    state: { path: ${state} }
`);
    const cli = (...args: string[]) => runCli([...args, '--config', file], { cwd: dir, env: { FLOTILLA_AUTHOR: 'ana' } });
    return { dir, state, statePath: join(state, 'state.json'), cli };
  }

  /** Every file of the state store (state, audit segments, lock), by name. The zone store's folder is the driver's. */
  function snapshot(stateDir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of readdirSync(stateDir)) if (n !== 'zones') out[n] = readFileSync(join(stateDir, n), 'latin1');
    return out;
  }

  const noTrace = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at |unexpected error/, stderr);

  it('check, status, history, plan, validate and records leave the saved health, last good set and providers byte-identical', async () => {
    const { state, cli } = stack();
    const store = new FileStateStore(state);
    const st = emptyState();
    st.health.m1 = { state: 'down', successStreak: 0, failureStreak: 7, recentFlips: [1_700_000_000_000], lastReason: 'refused', lastProbeAt: 1_700_000_000_000 };
    st.health.m2 = { state: 'up', successStreak: 9, failureStreak: 0, recentFlips: [], lastReason: 'ok', lastLatencyMs: 1.5 };
    st.lastGood = ['m2'];
    st.providers.embedded = { lastConvergedAt: 1_700_000_000_000, lastConvergeMs: 12, verifiedServing: 'm2', records: { 'safety.test': [{ name: 'safety.test', type: 'A', ttl: 60, values: ['127.0.0.62'] }] } };
    assert.equal(await store.save(st, 0), true);
    await store.append({ at: Date.now(), kind: 'decision', message: 'serve m2' });
    const before = snapshot(state);

    const check = await cli('check', '--json');
    assert.ok(check.code === 0 || check.code === 1, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout).results.map((r: { mirror: string }) => r.mirror), ['m1', 'm2']);
    for (const args of [['status'], ['history', '--since', '1h'], ['plan'], ['validate'], ['records']]) {
      const r = await cli(...args);
      noTrace(r.stderr);
      assert.ok(r.code === 0 || r.code === 1, `${args[0]}: exit ${r.code}\n${r.stderr}`);
    }
    assert.deepEqual(snapshot(state), before);
    const events = await store.audit();
    assert.deepEqual(events.map((e) => e.message), ['serve m2'], 'no "controller stopped" or any other event');
  });

  for (const [what, text] of [['null', 'null'], ['an array', '[]'], ['a number', '42'], ['wrong field types', '{"version":2,"lastGood":"m1","overrides":[{"id":7}]}']] as const) {
    it(`a state.json holding ${what} is refused by status and drain (exit 2, the path, what was expected) and never overwritten`, async () => {
      const { state, statePath, cli } = stack();
      mkdirSync(state, { recursive: true });
      writeFileSync(statePath, text);
      const results = await Promise.all([cli('status'), cli('drain', 'm1', '--reason', 'disk')]);
      for (const r of results) {
        assert.equal(r.code, 2, r.stderr);
        assert.ok(r.stderr.includes(statePath), r.stderr);
        assert.match(r.stderr, /does not hold a flotilla state[\s\S]*expected/);
        assert.match(r.stderr, /nothing was written/);
        noTrace(r.stderr);
      }
      assert.equal(readFileSync(statePath, 'utf8'), text);
      assert.deepEqual(await new FileStateStore(state).audit(), [], 'the refused drain audited nothing');
    });
  }

  it('a drain whose audit entry cannot be written does not take effect: exit 1, a clear error, no trace', async () => {
    const { state, statePath, cli } = stack();
    mkdirSync(join(state, 'audit.log'), { recursive: true }); // unwritable even for root
    const r = await cli('drain', 'm1', '--reason', 'disk');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /audit entry could not be written, so nothing was changed/);
    assert.match(r.stderr, /EISDIR/);
    noTrace(r.stderr);
    assert.equal(existsSync(statePath), false, 'the drain was not saved');
  });

  it('history skips corrupt audit lines with a warning, and an empty lock file does not block a drain', async () => {
    const { state, statePath, cli } = stack();
    mkdirSync(state, { recursive: true });
    const now = Date.now();
    writeFileSync(join(state, 'audit.log'), [
      JSON.stringify({ at: now - 1000, kind: 'decision', message: 'first' }),
      '{"at":1e20,"kind":"apply","message":"far future"}',
      'not json at all',
      '{"at":"soon","kind":3}',
      JSON.stringify({ at: now - 500, kind: 'decision', message: 'second' }),
      '',
    ].join('\n'));
    writeFileSync(join(state, 'state.lock'), ''); // left by a crash
    const h = await cli('history', '--since', '1h');
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /first[\s\S]*second/);
    assert.match(h.stderr, /warning: 3 line\(s\) of the audit log are not events/);
    noTrace(h.stderr);
    const d = await cli('drain', 'm1', '--reason', 'disk', '--json');
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(JSON.parse(readFileSync(statePath, 'utf8')).overrides.map((o: { mirror: string }) => o.mirror), ['m1']);
    const j = JSON.parse((await cli('history', '--since', '1h', '--json')).stdout);
    assert.deepEqual(j.events.map((e: { message: string }) => e.message.split(' ')[0]), ['first', 'second', 'drained']);
    assert.equal(j.skipped, 3);
  });
});
