/** `flotilla daemon` whose embedded DNS server needs a TSIG secret it cannot read: a clear error naming the setting, exit 2. */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports.ts';
import { REPO, runCli } from '../support/run-cli.ts';

describe('flotilla daemon: axfrTsig secret missing or not base64', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-axfr-tsig-'));
  before(async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    writeFileSync(
      join(dir, 'stacks', 'Pulumi.x.yaml'),
      `config:
  flotilla:fleet:
    site: { name: x, contentDir: ${join(REPO, 'site')} }
    domain: xfr.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.72 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${await freePort()}, axfrTsig: { keyName: xfr-key, secretEnv: XFR_TEST_SECRET } } }
    health: { interval: 250ms, timeout: 200ms }
    state: { path: ${join(dir, 'state')} }
    server: { listen: 127.0.0.1, port: ${await freePort()} }
`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [what, value, needle] of [['unset', undefined, 'is not set'], ['not base64', 'hunter2!not-base64', 'is not valid base64']] as const) {
    it(`${what}: exit 2 naming the file, the setting and the variable, never the value`, async () => {
      const r = await runCli(['daemon', '--stack', 'x'], { cwd: dir, timeoutMs: 30_000, env: { XFR_TEST_SECRET: value } });
      assert.equal(r.code, 2, `exit code\n${r.stdout}\n${r.stderr}`);
      for (const n of ['Pulumi.x.yaml', 'flotilla:fleet.dnsProviders[0].settings.axfrTsig.secretEnv', 'XFR_TEST_SECRET', needle]) {
        assert.ok(r.stderr.includes(n), `stderr lacks ${JSON.stringify(n)}:\n${r.stderr}`);
      }
      assert.ok(!/\n\s+at .*:\d+:\d+/.test(r.stderr), `stack trace printed:\n${r.stderr}`);
      if (value) assert.ok(!(r.stdout + r.stderr).includes(value), 'the value is never printed');
    });
  }
});
