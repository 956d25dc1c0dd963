import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cacheKey, canRunBundle, compileBundle } from '../../bin/run-bundle.mjs';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-run-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in bundle: `main` returns `answer`; a few functions so V8 has code to cache. */
const bundleText = (answer: string) => `'use strict';
const words = (n) => Array.from({ length: n }, (_, i) => 'w' + i).join(' ');
exports.main = async (argv) => ${JSON.stringify(answer)} + ' ' + argv.slice(2).join(' ') + ' ' + words(2).length;
exports.commandNamed = (args) => (args[0] === 'status' ? { name: 'status' } : undefined);
`;

function bundleIn(name: string, text: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'main.cjs'), text);
  return join(d, 'main.cjs');
}

/** One start as bin/flotilla.mjs makes it: compile, run main, save the cache. */
async function start(file: string, args: string[]) {
  const c = compileBundle(file, args);
  const out = await (c.run() as { main: (argv: string[]) => Promise<string> }).main(['node', 'flotilla', ...args]);
  c.saveCache();
  return { out, cacheUsed: c.cacheUsed };
}

describe('bin/run-bundle.mjs: the bundle with a V8 code cache per command', () => {
  it('this Node can run the bundle (it requires ES-only packages and imports from a vm.Script)', () => {
    assert.equal(canRunBundle(), true);
  });

  it('names the cache after the command, as commandNamed does; no key for what cannot be a command name', () => {
    assert.equal(cacheKey(['status', '--stack', 'local']), 'status');
    assert.equal(cacheKey(['--help']), 'help');
    assert.equal(cacheKey([]), 'help');
    assert.equal(cacheKey(['help', 'drain']), 'drain');
    assert.equal(cacheKey(['../x']), undefined);
  });

  it('writes the cache after the first start and uses it at the next, with the same result', async () => {
    const file = bundleIn('first', bundleText('A'));
    const first = await start(file, ['status', '--x']);
    assert.deepEqual(first, { out: 'A status --x 5', cacheUsed: false });
    assert.equal(readdirSync(join(dir, 'first', 'cache')).filter((f) => /^status\.[0-9a-f]{32}\.v8$/.test(f)).length, 1);
    assert.deepEqual(await start(file, ['status', '--x']), { out: 'A status --x 5', cacheUsed: true });
  });

  it('never uses a cache made from another bundle text, even of the same length (V8 checks only the length)', async () => {
    const file = bundleIn('changed', bundleText('A'));
    await start(file, ['status']);
    assert.equal((await start(file, ['status'])).cacheUsed, true);
    writeFileSync(file, bundleText('B')); // same length, other code
    assert.deepEqual(await start(file, ['status']), { out: 'B status 5', cacheUsed: false });
    assert.deepEqual(await start(file, ['status']), { out: 'B status 5', cacheUsed: true });
  });

  it('writes no cache for a command the bundle does not know (a typo), and starts without one where it cannot write', async () => {
    const file = bundleIn('typo', bundleText('A'));
    await start(file, ['stauts']);
    assert.equal(existsSync(join(dir, 'typo', 'cache')), false);
    if (process.getuid?.() === 0) return; // root writes anyway
    const ro = bundleIn('read-only', bundleText('A'));
    chmodSync(join(dir, 'read-only'), 0o555);
    try {
      assert.deepEqual(await start(ro, ['status']), { out: 'A status 5', cacheUsed: false });
      assert.equal(existsSync(join(dir, 'read-only', 'cache')), false);
    } finally {
      chmodSync(join(dir, 'read-only'), 0o755);
    }
  });
});
