/**
 * `flotilla certs issue|renew|status` and the certificate line of `flotilla status`, as a user runs them: the real
 * bin against pebble, the embedded DNS server and PowerDNS (two providers of one zone). pebble's listener CA is
 * trusted through NODE_EXTRA_CA_CERTS, as a user would trust a private ACME CA.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { freePort } from '../support/ports.ts';
import { startPdnsServer, type PdnsServer } from '../support/pdns-server.ts';
import { startPebble, type PebbleServer } from '../support/pebble-server.ts';
import { REPO, runCli } from '../support/run-cli.ts';

const ZONE = 'certs-cli.test';

describe('flotilla certs (CLI, pebble + embedded DNS + PowerDNS)', { timeout: 180_000 }, () => {
  let pdns: PdnsServer;
  let embedded: EmbeddedDnsServer;
  let pebble: PebbleServer;
  let dir: string;
  let env: Record<string, string>;
  const stack = (extra: string) => {
    const file = join(dir, `Pulumi.${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `config:\n  flotilla:fleet:\n    site: { name: s, contentDir: ${join(REPO, 'site')} }\n    domain: ${ZONE}\n    alternateDomains: [www.${ZONE}]\n    mirrors:\n      - { name: m1, provider: local, ipv4: 127.0.0.11 }\n    dnsProviders:\n      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${embedded.port} } }\n      - { name: pdns, kind: powerdns, settings: { url: ${pdns.apiUrl}, apiKeyEnv: CERTS_PDNS_KEY, serverId: ${pdns.serverId}, nameservers: [${pdns.dnsAddress}], timeout: 500ms } }\n    state: { kind: file, path: ${join(dir, 'state')} }\n${extra}`);
    return file;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-certs-cli-'));
    pdns = await startPdnsServer({ zones: [ZONE] });
    const zones = openZoneStore(join(dir, 'state', 'zones'));
    await zones.ensureZone(ZONE);
    embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: await freePort(), store: zones });
    pebble = await startPebble({ dnsServer: embedded.address });
    writeFileSync(join(dir, 'pebble-ca.pem'), pebble.listenerCa);
    env = { CERTS_PDNS_KEY: pdns.apiKey, NODE_EXTRA_CA_CERTS: join(dir, 'pebble-ca.pem') };
  });
  after(async () => {
    await pebble?.stop();
    await embedded?.close();
    await pdns?.stop();
  });

  it('status before, issue, status after, renew (not due), and the certificate line of flotilla status', async () => {
    const file = stack(`    certs: { directory: '${pebble.directoryUrl}', email: ops@${ZONE}, verifyTimeout: 10s }\n`);
    const none = await runCli(['certs', 'status', '--config', file], { env });
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stdout, /no certificate yet/);

    const issue = await runCli(['certs', 'issue', '--config', file], { env });
    assert.equal(issue.code, 0, issue.stderr + issue.stdout);
    assert.match(issue.stdout, new RegExp(`issued ${ZONE}, www\\.${ZONE}`));
    assert.match(issue.stdout, /challenge TXT removed at every provider/);
    assert.match(issue.stdout, /deploy to m1: skipped \(a local mirror/);
    assert.match(issue.stdout, /certificate deployed to 0 of 1 mirrors; skipped: m1/, 'never "every mirror" with a skipped one');
    assert.doesNotMatch(issue.stdout + issue.stderr, /PRIVATE KEY/);
    assert.equal(statSync(join(dir, 'state', 'secrets', 'site.key')).mode & 0o777, 0o600);

    const st = await runCli(['certs', 'status', '--config', file, '--json'], { env });
    assert.equal(st.code, 0, st.stderr);
    const s = JSON.parse(st.stdout);
    assert.equal(s.state, 'ok');
    assert.deepEqual(s.names, [ZONE, `www.${ZONE}`]);
    assert.ok(s.notAfter > Date.now());
    assert.equal(s.deployed.m1.skipped, true);
    assert.match(s.deploySummary, /^deployed to 0 of 1 mirrors; skipped: m1/);

    const renew = await runCli(['certs', 'renew', '--config', file], { env });
    assert.equal(renew.code, 0, renew.stderr);
    assert.match(renew.stdout, /not due: renews /);

    const status = await runCli(['status', '--config', file], { env });
    assert.match(status.stdout, new RegExp(`certificate: ${ZONE} www\\.${ZONE} ok, expires \\d{4}-`));

    const audit = await new FileStateStore(join(dir, 'state')).audit();
    assert.ok(audit.some((e) => e.kind === 'cert' && /certificate issued/.test(e.message)), 'issuance audited');
  });

  it('a renewal that fails (PowerDNS stopped) is audited as cert-error, backs off, and says why', async () => {
    // due at once: a new name makes the stored certificate not match (and needs a fresh authorization)
    const file2 = stack(`    certs: { directory: '${pebble.directoryUrl}', verifyTimeout: 2s }\n`).replace(/$/, '');
    writeFileSync(file2, readFileSync(file2, 'utf8').replace(`alternateDomains: [www.${ZONE}]`, `alternateDomains: [www.${ZONE}, api.${ZONE}]`));
    process.kill(pdns.pid, 'SIGSTOP');
    let r;
    try {
      r = await runCli(['certs', 'renew', '--config', file2], { env });
    } finally {
      process.kill(pdns.pid, 'SIGCONT');
    }
    assert.equal(r!.code, 1, r!.stdout + r!.stderr);
    assert.match(r.stderr, /certificate not issued \(CERT_DNS\): challenge not published at every DNS provider: pdns/);
    const again = await runCli(['certs', 'renew', '--config', file2], { env });
    assert.equal(again.code, 1);
    assert.match(again.stdout, /due, but waiting after failures: 1 failure\(s\) in a row/);
    const audit = await new FileStateStore(join(dir, 'state')).audit();
    assert.ok(audit.some((e) => e.kind === 'cert-error' && /pdns/.test(e.message)));
  });

  it('a mirror that should get the certificate and did not: issue, status and deploy exit 1 naming it; trust checks its mirror', async () => {
    // box: an ssh mirror whose key variable is unset (skipped with the reason); m1: local, never counts
    const file = stack(`    certs: { directory: '${pebble.directoryUrl}', verifyTimeout: 10s }\n`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('      - { name: m1, provider: local, ipv4: 127.0.0.11 }\n', '      - { name: m1, provider: local, ipv4: 127.0.0.11 }\n      - { name: box, provider: ssh, ipv4: 127.0.0.12, sshKeyEnv: CERTS_UNSET_KEY }\n'));
    const missed = /flotilla: certificate not on every mirror: box \(skipped: the environment variable CERTS_UNSET_KEY \(its SSH key\) is not set\)/;
    const issue = await runCli(['certs', 'issue', '--config', file], { env });
    assert.equal(issue.code, 1, issue.stdout + issue.stderr);
    assert.match(issue.stdout, /deploy to box: skipped/);
    assert.match(issue.stderr, missed);
    assert.doesNotMatch(issue.stderr, /m1/, 'a local mirror never counts');
    const st = await runCli(['certs', 'status', '--config', file], { env });
    assert.equal(st.code, 1, st.stdout + st.stderr);
    assert.match(st.stderr, missed);
    const renew = await runCli(['certs', 'renew', '--config', file], { env });
    assert.equal(renew.code, 1, renew.stdout + renew.stderr);
    assert.match(renew.stdout, /not due/);
    assert.match(renew.stderr, missed);
    const dep = await runCli(['certs', 'deploy', '--config', file], { env });
    assert.equal(dep.code, 1, dep.stdout + dep.stderr);
    assert.match(dep.stderr, missed);
    const unknown = await runCli(['certs', 'trust', 'nope', '--config', file], { env });
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /no mirror nope in the stack \(certificate deploy targets: box\)/);
    const local = await runCli(['certs', 'trust', 'm1', '--config', file], { env });
    assert.equal(local.code, 2, local.stderr);
    assert.match(local.stderr, /mirror m1 gets no certificate over SSH: a local mirror/);
    const noSshd = await runCli(['certs', 'deploy', '--mirror', 'nope', '--config', file], { env });
    assert.equal(noSshd.code, 2, noSshd.stderr);
  });

  it('bad certs settings and a missing certs section: exit 2 naming the path', async () => {
    const bad = await runCli(['certs', 'issue', '--config', stack(`    certs: { directory: 'ftp://ca.example/dir', renewAt: 2 }\n`)], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /flotilla:fleet\.certs\.directory: expected letsencrypt, letsencrypt-staging or an https URL/);
    assert.match(bad.stderr, /flotilla:fleet\.certs\.renewAt/);
    assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/);
    const none = await runCli(['certs', 'status', '--config', stack('')], { env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /has no `certs:` section/);
  });
});
