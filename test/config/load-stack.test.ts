import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadStack } from '../../src/config/load-stack.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { mirrorHealth } from '../../src/domain/fleet-spec.ts';
import { REPO } from '../support/run-cli.ts';

describe('loadStack', () => {
  it('turns the local stack into a FleetSpec with durations in ms and the site digest', async () => {
    const spec = await loadStack({ stack: 'local', cwd: REPO });
    assert.equal(spec.health.intervalMs, 250);
    assert.equal(spec.health.timeoutMs, 200);
    assert.equal(spec.policy.ownerId, 'flotilla-local');
    assert.match(spec.site.digest, /^[0-9a-f]{64}$/);
    assert.ok(spec.site.files['/index.html']);
    assert.equal(spec.site.files['/'], spec.site.files['/index.html']);
    assert.equal(spec.state.path, join(REPO, '.flotilla/local'));
  });

  it('a per-mirror health override changes only the fields it names', async () => {
    const spec = await loadStack({ file: join(REPO, 'test/fixtures/mirror-override.yaml'), cwd: REPO });
    const [a, b] = spec.mirrors;
    assert.deepEqual(a.health, { port: 9999 });
    const h = mirrorHealth(spec, a);
    assert.equal(h.port, 9999);
    assert.equal(h.intervalMs, 250, 'the fleet interval must survive a port-only override');
    assert.equal(h.fall, 3);
    assert.equal(mirrorHealth(spec, b).timeoutMs, 150);
  });

  it('a dns probe without a port asks port 53, and a mirror switching back to http keeps the http default', async () => {
    const file = stackFile((y) => y.replace('      port: 18080\n', '').replace('      path: /\n', '      path: /\n      probe: dns\n').replace('{ name: local-c, provider: local, ipv4: 127.0.0.13 }', '{ name: local-c, provider: local, ipv4: 127.0.0.13, health: { probe: http } }'));
    const spec = await loadStack({ file });
    assert.equal(mirrorHealth(spec, spec.mirrors[0]).port, 53);
    assert.equal(mirrorHealth(spec, spec.mirrors[2]).port, undefined, 'an http mirror must not inherit 53');
  });
});

/** A copy of the local stack with one edit, in a project of its own (its own site directory). */
function stackFile(edit: (yaml: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-load-'));
  mkdirSync(join(dir, 'stacks'));
  mkdirSync(join(dir, 'site'));
  writeFileSync(join(dir, 'site', 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
  const file = join(dir, 'stacks', 'Pulumi.t.yaml');
  writeFileSync(file, edit(readFileSync(join(REPO, 'stacks', 'Pulumi.local.yaml'), 'utf8')));
  return file;
}

async function configError(file: string): Promise<ConfigError> {
  const e = await loadStack({ file }).then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${(e as Error)?.stack ?? e}`);
  assert.equal(e.file, file);
  return e;
}

describe('loadStack: hostile YAML', () => {
  it('an alias bomb (billion laughs) is refused before it expands', async () => {
    const levels = ['    lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) levels.push(`    lol${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
    const file = stackFile((y) => y.replace('config:\n', `config:\n  bomb:\n${levels.join('\n')}\n`));
    const e = await configError(file);
    assert.match(e.message, /too many YAML aliases.*alias bomb/);
  });

  it('an unresolved alias names its line', async () => {
    const file = stackFile((y) => y.replace('      rise: 2', '      rise: *nowhere'));
    const e = await configError(file);
    assert.equal(e.issues.length, 1);
    assert.match(e.issues[0].path, /^line \d+, column \d+$/);
    assert.match(e.issues[0].message, /alias \*nowhere names no anchor/);
  });

  it('an alias inside the value it names (a circular reference) is refused, not followed forever', async () => {
    const file = stackFile((y) => y.replace('  flotilla:fleet:\n', '  flotilla:fleet: &fleet\n').replace('      rise: 2', '      rise: *fleet'));
    const e = await configError(file);
    assert.match(e.issues[0].path, /^line \d+, column \d+$/);
    assert.match(e.issues[0].message, /circular reference/);
  });

  it('aliases used as intended still work', async () => {
    const file = stackFile((y) => y.replace('      rise: 2', '      rise: &two 2\n      fall: *two').replace('      fall: 3\n', ''));
    const spec = await loadStack({ file });
    assert.equal(spec.health.fall, 2);
  });
});
