import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli } from '../support/run-cli.ts';

/** Mistakes a responder makes under stress get an error that names the fix, exit 2, no trace. */
describe('CLI usage errors', { timeout: 60_000 }, () => {
  it('failover with the mirror as an argument points to --to', async () => {
    const r = await runCli(['failover', 'mirror-3', '--stack', 'local', '--reason', 'x']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--to mirror-3/);
    assert.doesNotMatch(r.stderr, /too many arguments|\n\s+at /);
  });

  it('daemon --vantage that cannot name an etcd key, and --probe-from that is not an address, exit 2', async () => {
    const v = await runCli(['daemon', '--stack', 'local', '--no-http', '--vantage', 'a/b']);
    assert.equal(v.code, 2, v.stderr);
    assert.match(v.stderr, /--vantage: expected 1-64 letters, digits, _ \. - .*"a\/b"/);
    const p = await runCli(['daemon', '--stack', 'local', '--no-http', '--probe-from', 'eth0']);
    assert.equal(p.code, 2, p.stderr);
    assert.match(p.stderr, /--probe-from: expected an IP address of this host, found "eth0"/);
    for (const r of [v, p]) assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

    it('history --kind with a typo names the valid kinds', async () => {
    const r = await runCli(['history', '--stack', 'local', '--kind', 'overide']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /"overide"/);
    assert.match(r.stderr, /override, override-expired/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('--version prints the version in package.json', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });

  it('with --json an error is a JSON document on stdout too (code, message, exit code), for flag and input mistakes alike', async () => {
    const unknownMirror = await runCli(['drain', 'nobody', '--stack', 'local', '--reason', 'x', '--json']);
    assert.equal(unknownMirror.code, 2);
    assert.deepEqual(JSON.parse(unknownMirror.stdout).error, { code: 'USAGE', message: 'unknown mirror "nobody"; known mirrors: local-a, local-b, local-c', exitCode: 2 });
    const badFlag = await runCli(['status', '--stack', 'local', '--bogus', '--json']);
    assert.equal(badFlag.code, 2);
    assert.equal(JSON.parse(badFlag.stdout).error.code, 'USAGE');
    const badStack = await runCli(['plan', '--stack', 'nope', '--json']);
    assert.equal(badStack.code, 2);
    const doc = JSON.parse(badStack.stdout).error;
    assert.equal(doc.code, 'CONFIG_NOT_FOUND');
    assert.equal(doc.issues[0].path, '(file)');
  });
});
