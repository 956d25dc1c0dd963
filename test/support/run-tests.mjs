#!/usr/bin/env node
/**
 * `npm test`: every test file under test/, one at a time, with TMPDIR pointed at one directory made for this run and
 * removed when it ends (passed, failed or interrupted), so a run leaves nothing behind in /tmp whatever a test forgets.
 * Arguments are passed on to `node --test` (e.g. `npm test -- --test-name-pattern=drain`); arguments naming test files
 * (`npm test -- test/cli/drain.test.ts`) run those files instead of every one.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const named = args.filter((a) => a.endsWith('.test.ts'));
const files = named.length > 0 ? [] : readdirSync(join(root, 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => join('test', f))
  .sort();
const runTmp = mkdtempSync(join(tmpdir(), 'flotilla-test-run-'));
// like /tmp itself: tests that run a command as another user (nobody) need to write there too
chmodSync(runTmp, 0o1777);

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...args, ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: runTmp },
});
const forward = (sig) => child.kill(sig);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => {
  rmSync(runTmp, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
