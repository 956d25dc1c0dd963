/** The safety net: a test file that fails with a spawned process still running ends anyway, and the process dies. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnTracked, stopChild } from './child-processes.ts';
import { REPO } from './run-cli.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('child-process safety net', () => {
  it('a test file that fails with its child running still exits, and the child is killed', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'flotilla-leak-')), 'pid');
    const run = spawnTracked(process.execPath, ['--import', 'tsx', '--test', join(REPO, 'test/fixtures/leaks-a-process.ts')], {
      cwd: REPO,
      // a test file of its own, not a subtest of this one
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, LEAK_PID_FILE: pidFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    run.stdout!.on('data', (d) => (out += d));
    run.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      // generous: the file starts tsx on a loaded machine; without the net it never exits at all
      const t = setTimeout(() => resolve(-1), 60_000);
      run.once('exit', (c) => { clearTimeout(t); resolve(c); });
    });
    try {
      assert.notEqual(code, -1, `the failing test file never exited (hung on its child):\n${out}`);
      assert.equal(code, 1, out);
      assert.match(out, /stopping 1 process\(es\) a test left running: sleep/);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.equal(alive(pid), false, `the leaked child ${pid} is still running`);
    } finally {
      await stopChild(run, { signal: 'SIGKILL' });
    }
  });
});
