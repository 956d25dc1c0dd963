import assert from 'node:assert/strict';
import { hasBinary } from '../support/ensure-packages.ts';
import { describe, it } from 'node:test';
import { runCli } from '../support/run-cli.ts';

describe('flotilla demo', () => {
  it('runs its whole timeline on this machine and exits 0', async () => {
    const r = await runCli(['demo'], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /step 6\/6/);
    assert.match(r.stdout, /every step behaved as expected/);
    assert.match(r.stdout, /dig @127\.0\.0\.1 -p \d+ flotilla\.test A/);
    assert.match(r.stdout, /content digest mismatch/);
    assert.doesNotMatch(r.stdout, /✗/);
    // the HTTPS step: a certificate from a local pebble when it is installed (it is on this build machine)
    if (hasBinary('pebble')) assert.match(r.stdout, /https: a certificate for flotilla\.test, www\.flotilla\.test[^]*✓ issued: serial [0-9A-F]+, expires /);
    else assert.match(r.stdout, /https: skipped: pebble/);
  });
});
