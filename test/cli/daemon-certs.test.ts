/**
 * `flotilla daemon` with `certs:` in the stack: the real daemon process issues the certificate at start through its
 * own embedded DNS server (pebble asks that server), audits it, and /metrics shows the expiry.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { freePort } from '../support/ports.ts';
import { startPebble, type PebbleServer } from '../support/pebble-server.ts';
import { BIN, REPO } from '../support/run-cli.ts';

describe('flotilla daemon: the certificate renew loop', { timeout: 120_000 }, () => {
  let pebble: PebbleServer;
  let dnsPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-daemon-certs-'));

  before(async () => {
    dnsPort = await freePort();
    pebble = await startPebble({ dnsServer: `127.0.0.1:${dnsPort}` });
    writeFileSync(join(dir, 'pebble-ca.pem'), pebble.listenerCa);
  });
  after(async () => {
    await pebble?.stop();
  });

  it('issues at start, audits it, and /metrics carries the expiry', async () => {
    const httpPort = await freePort();
    const file = join(dir, 'Pulumi.dc.yaml');
    writeFileSync(file, `config:
  flotilla:fleet:
    site: { name: d, contentDir: ${join(REPO, 'site')} }
    domain: daemon-certs.test
    alternateDomains: [www.daemon-certs.test]
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.31 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${dnsPort} } }
    health: { interval: 1s, timeout: 200ms }
    state: { path: ${join(dir, 'state')} }
    server: { listen: 127.0.0.1, port: ${httpPort} }
    certs: { directory: '${pebble.directoryUrl}', verifyTimeout: 10s, checkInterval: 1h }
`);
    const child = spawnTracked(process.execPath, [BIN, 'daemon', '--config', file], { cwd: dir, env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'pebble-ca.pem') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      for (let i = 0; !/cert: certificate issued for daemon-certs\.test, www\.daemon-certs\.test/.test(out); i++) {
        if (i > 600 || child.exitCode !== null) assert.fail(`no issuance in the daemon's output:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(out, /certs: challenge TXT removed at every provider/);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      assert.match(metrics, /flotilla_certificate_expiry_timestamp_seconds\{names="daemon-certs\.test,www\.daemon-certs\.test"\} \d{10}/);
      assert.doesNotMatch(out, /PRIVATE KEY/);
      // SIGHUP: the loop restarts with the reloaded settings (and finds nothing due)
      writeFileSync(file, readFileSync(file, 'utf8').replace('checkInterval: 1h', 'checkInterval: 2h'));
      child.kill('SIGHUP');
      for (let i = 0; !/certificates: checking every 7200s/.test(out); i++) {
        if (i > 400 || child.exitCode !== null) assert.fail(`the reloaded certs settings were not taken:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await stopChild(child);
    }
    const audit = await new FileStateStore(join(dir, 'state')).audit();
    assert.ok(audit.some((e) => e.kind === 'cert'), 'issuance in the audit log');
  });
});
