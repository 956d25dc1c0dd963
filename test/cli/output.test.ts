import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { escapeControl, table } from '../../src/cli/output.ts';
import { emptyState } from '../../src/domain/state.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { REPO, runCli } from '../support/run-cli.ts';

// ESC ] 0 ; sets the terminal title, ESC [ 2 J clears the screen, BEL ends the OSC; U+202E reverses text
const HOSTILE = 'disk \u001b]0;pwned\u0007full\u001b[2J\r\nFAKE LINE \u202eevil \u009b31m';
/** Any byte a terminal acts on: C0 except the newline between lines, DEL, C1, bidi overrides. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('escapeControl', () => {
  it('makes every control character visible and keeps other text', () => {
    assert.equal(escapeControl(HOSTILE), 'disk \\x1b]0;pwned\\x07full\\x1b[2J\\r\\nFAKE LINE \\u202eevil \\x9b31m');
    assert.equal(escapeControl('plain text · ünïcode ✓'), 'plain text · ünïcode ✓');
  });

  it('table escapes every cell', () => {
    const t = table(['a', 'b'], [['x', HOSTILE]]);
    assert.doesNotMatch(t, RAW_CONTROL);
    assert.equal(t.split('\n').length, 3, 'a newline in a cell cannot forge a row');
  });
});

describe('history and status print hostile text escaped', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-escape-'));
  const file = join(dir, 'stacks', 'Pulumi.e.yaml');
  const cli = (...args: string[]) => runCli([...args, '--config', file], { cwd: dir });

  before(async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    writeFileSync(file, `config:
  flotilla:fleet:
    site: { name: e, contentDir: ${join(REPO, 'site')} }
    domain: escape.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.51 }
      - { name: m2, provider: local, ipv4: 127.0.0.52 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { port: 1 } }
    state: { path: ${join(dir, 'state')} }
`);
    mkdirSync(join(dir, 'state'));
    const store = new FileStateStore(join(dir, 'state'));
    await store.append({ at: Date.now(), kind: 'override', actor: `ana\u001b[31m`, message: `drained m1: ${HOSTILE}` });
    const st = emptyState();
    st.overrides = [{ id: 'o1', kind: 'drain', mirror: 'm1', reason: HOSTILE, author: 'eve\u001b[8m', createdAt: Date.now() }];
    st.health = { m1: { state: 'down', successStreak: 0, failureStreak: 3, recentFlips: [], lastReason: `refused \u001b[2J` } } as never;
    assert.equal(await store.save(st, 0), true);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('history', async () => {
    const r = await cli('history');
    assert.match(r.stdout, /pwned/, r.stderr);
    assert.doesNotMatch(r.stdout, RAW_CONTROL);
    assert.match(r.stdout, /\\x1b\]0;pwned\\x07/);
    assert.doesNotMatch(r.stdout, /^FAKE LINE/m, 'a newline in a reason cannot forge a line');
  });

  it('status', async () => {
    const r = await cli('status');
    assert.match(r.stdout, /pwned/, r.stderr);
    assert.doesNotMatch(r.stdout, RAW_CONTROL);
    assert.match(r.stdout, /eve\\x1b\[8m/);
    assert.doesNotMatch(r.stdout, /^FAKE LINE/m);
  });
});
