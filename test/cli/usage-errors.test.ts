import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../support/run-cli.ts';

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
});
