/**
 * SSH host-key pinning for certificate deploys, with real parts: pebble + the embedded DNS server issue the
 * certificates, a real sshd on loopback is the mirror's login, a real nginx (prefix on loopback) serves them. The first
 * deploy pins the host key it meets; after the host key is replaced the next deploy is refused (CERT_HOST_KEY), nginx
 * keeps the old certificate and the audit says why; after `certs trust` with the new fingerprint the deploy goes through.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { certInfo } from '../../src/certs/acme-issue.ts';
import { deployAll, missedMirrors } from '../../src/certs/cert-deploy.ts';
import { runCertJob } from '../../src/certs/cert-job.ts';
import { CertStore } from '../../src/certs/cert-store.ts';
import { deployHeld } from '../../src/certs/deploy-held.ts';
import { KNOWN_HOSTS_SECRET } from '../../src/certs/host-key-pins.ts';
import { trustHostKey } from '../../src/certs/host-key-trust.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { FileSecretStore } from '../../src/state/secret-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { startNginxPrefix, type NginxPrefix } from '../support/nginx-prefix.ts';
import { startPebble, type PebbleServer } from '../support/pebble-server.ts';
import { freePort } from '../support/ports.ts';
import { startSshd, type SshdServer } from '../support/sshd-server.ts';

const ZONE = 'pin.test';

describe('SSH host-key pinning of certificate deploys (pebble, sshd, nginx)', { timeout: 180_000 }, () => {
  let embedded: EmbeddedDnsServer;
  let pebble: PebbleServer;
  let nginx: NginxPrefix;
  let sshd: SshdServer;
  let dir: string;
  let drivers: DnsDriver[];
  let httpsPort: number;
  let listen: { https: string[]; http: string[] };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-pin-'));
    const zones = openZoneStore(join(dir, 'zones'));
    await zones.ensureZone(ZONE);
    embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zones });
    drivers = await createDrivers([{ name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: embedded.port, zoneDir: join(dir, 'zones') } }], { env: {}, stateDir: dir });
    pebble = await startPebble({ dnsServer: embedded.address });
    nginx = await startNginxPrefix({ files: { 'index.html': '<h1>pin</h1>\n' } });
    sshd = await startSshd();
    httpsPort = await freePort();
    listen = { https: [`127.0.0.1:${httpsPort}`], http: [`127.0.0.1:${await freePort()}`] };
  });
  after(async () => {
    await sshd?.stop();
    await nginx?.stop();
    await pebble?.stop();
    await embedded?.close();
  });

  /** The serial nginx serves now (upper case hex). */
  const servedSerial = () =>
    new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: httpsPort, servername: ZONE, rejectUnauthorized: false }, () => {
        const serial = s.getPeerCertificate().serialNumber.toUpperCase();
        s.end();
        resolve(serial);
      });
      s.on('error', reject);
    });
  const until = async (pred: () => Promise<boolean>, what: string) => {
    for (let i = 0; ; i++) {
      if (await pred().catch(() => false)) return;
      if (i > 400) assert.fail(`never: ${what}\n${await nginx.errorLog()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('pins on first use, refuses a changed key without touching the mirror, deploys again after certs trust', async () => {
    const spec: FleetSpec & { certs: NonNullable<FleetSpec['certs']> } = {
      ...fleetFixture({ stack: 'pin-e2e', domain: ZONE, alternateDomains: [] }, 0),
      mirrors: [{ name: 'box', provider: 'ssh', ipv4: '127.0.0.1', settings: { sshKeyEnv: 'PIN_E2E_KEY', sshUser: sshd.user, sshPort: sshd.port } }],
      certs: { directory: pebble.directoryUrl, renewAt: 2 / 3, verifyTimeoutMs: 10_000, checkIntervalMs: 3_600_000, deploy: { dir: join(nginx.dir, 'tls'), nginxConf: join(nginx.dir, 'conf.d', 'flotilla-tls.conf'), webRoot: nginx.webRoot, nginx: nginx.command } },
    };
    const env = { PIN_E2E_KEY: sshd.clientKey };
    const secrets = new FileSecretStore(join(dir, 'state'));
    const store = new CertStore(secrets);
    const audit: Omit<AuditEvent, 'at'>[] = [];
    const job = () =>
      runCertJob('issue', { spec, drivers, query: directQuery, store, directoryCa: pebble.listenerCa, env, audit: async (e) => void audit.push(e), deploy: (pair) => deployAll(spec, pair, { env, secrets, listen }) });

    // 1. first deploy: the key sshd presents is pinned (trust on first use, audited)
    const first = await job();
    assert.equal(first.action, 'issued');
    if (first.action !== 'issued') return;
    const box1 = first.deployed.find((d) => d.mirror === 'box')!;
    assert.ok(box1.ok && !box1.skipped, `${box1.error}\n${sshd.log()}`);
    const oldKey = sshd.hostKeyFingerprint();
    assert.deepEqual(box1.hostKey, { status: 'first-use', mirror: 'box', address: `127.0.0.1:${sshd.port}`, pinned: [], presented: oldKey });
    assert.ok(audit.some((e) => e.kind === 'cert' && e.message === `SSH host key of mirror box at 127.0.0.1:${sshd.port} pinned on first use: ${oldKey}`), JSON.stringify(audit));
    const pins = join(dir, 'state', 'secrets', KNOWN_HOSTS_SECRET);
    assert.equal(statSync(pins).mode & 0o777, 0o600);
    assert.match(readFileSync(pins, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 AAAA`));
    const serial1 = first.issued.serial.toUpperCase();
    await until(async () => (await servedSerial()) === serial1, 'nginx serves the first certificate');
    const pinned1 = readFileSync(pins, 'utf8');
    const crtBefore = readFileSync(join(nginx.dir, 'tls', 'site.crt'), 'utf8');

    // 2. the host key changes: the next deploy is refused before logging in, nginx keeps the old certificate
    await sshd.rotateHostKey();
    const newKey = sshd.hostKeyFingerprint();
    const second = await job();
    assert.equal(second.action, 'issued');
    if (second.action !== 'issued') return;
    const box2 = second.deployed.find((d) => d.mirror === 'box')!;
    assert.equal(box2.ok, false, 'a deploy to a host presenting another key must be refused');
    assert.equal(box2.code, 'CERT_HOST_KEY');
    assert.equal(box2.hostKey?.status, 'changed');
    assert.deepEqual([box2.hostKey?.pinned, box2.hostKey?.presented], [[oldKey], newKey]);
    assert.ok(box2.error!.includes(`SSH host key of mirror box at 127.0.0.1:${sshd.port} changed: pinned ${oldKey}, presented ${newKey}; nothing was written to it`), box2.error);
    assert.ok(box2.error!.includes(`flotilla certs trust box --stack pin-e2e --fingerprint ${newKey}`), box2.error);
    assert.equal(readFileSync(join(nginx.dir, 'tls', 'site.crt'), 'utf8'), crtBefore, 'nothing written on the mirror');
    assert.equal(await servedSerial(), serial1, 'nginx still serves the old certificate');
    const refused = audit.find((e) => e.kind === 'cert-error' && e.data?.code === 'CERT_HOST_KEY');
    assert.ok(refused, JSON.stringify(audit));
    assert.match(refused.message, new RegExp(`certificate not deployed to box .*pinned ${oldKey.replace(/[+/]/g, '\\$&')}, presented ${newKey.replace(/[+/]/g, '\\$&')}`));
    assert.equal(readFileSync(pins, 'utf8'), pinned1, 'a refused key is never pinned');
    assert.deepEqual(missedMirrors(spec.mirrors, second.status.serial, second.status.deployed ?? {}).map((m) => m.mirror), ['box']);

    // 3. certs trust: without the fingerprint nothing is pinned; a wrong one is refused; the right one is pinned, audited
    const trust = (fingerprint?: string) => trustHostKey({ spec, mirror: 'box', fingerprint, secrets, actor: 'oncall', audit: async (e) => void audit.push(e) });
    assert.deepEqual(await trust(), { action: 'need-fingerprint', address: `127.0.0.1:${sshd.port}`, pinned: [oldKey], presented: [newKey] });
    await assert.rejects(trust(oldKey), (e: Error & { code?: string }) => e.code === 'CERT_HOST_KEY' && e.message.includes(`presents ${newKey}, not ${oldKey}: nothing pinned`));
    assert.deepEqual(await trust(newKey), { action: 'trusted', address: `127.0.0.1:${sshd.port}`, previous: [oldKey], fingerprint: newKey });
    assert.ok(audit.some((e) => e.kind === 'cert' && e.actor === 'oncall' && e.message.includes(`trusted by oncall: ${oldKey} → ${newKey}`)));

    // 4. the held certificate now reaches the mirror
    const again = await deployHeld({ spec, store, env, only: ['box'], listen, audit: async (e) => void audit.push(e) });
    assert.ok(again);
    assert.deepEqual(again.outcomes.map((o) => [o.mirror, o.ok, o.hostKey?.status]), [['box', true, 'matched']]);
    const serial2 = second.issued.serial.toUpperCase();
    await until(async () => (await servedSerial()) === serial2, 'nginx serves the second certificate after certs trust');
    assert.equal(again.status.deployed?.box.serial, second.issued.serial);
    assert.deepEqual(missedMirrors(spec.mirrors, again.status.serial, again.status.deployed ?? {}), []);
    assert.equal(certInfo((await store.certificate())!.cert).serial.toUpperCase(), serial2);
  });
});
