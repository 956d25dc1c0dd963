/**
 * ACME DNS-01 with real parts: Debian's pebble as the CA, asking the embedded DNS server; the zone is served by the
 * embedded server AND PowerDNS at once (two providers of one zone). The challenge TXT must be written at both,
 * verified at both, answered, then removed from both; with PowerDNS stopped nothing is issued and nothing is left.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueCertificate, certInfo } from '../../src/certs/acme-issue.ts';
import { CertStore } from '../../src/certs/cert-store.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { FileSecretStore } from '../../src/state/secret-store.ts';
import { connect } from 'node:tls';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { deployAll, deploySummary, deployTo, localRunner, siteDeployScript } from '../../src/certs/cert-deploy.ts';
import { HostKeyPins } from '../../src/certs/host-key-pins.ts';
import { pinnedSshRunner } from '../../src/certs/pinned-ssh.ts';
import type { MirrorSpec } from '../../src/domain/fleet-spec.ts';
import { notProvisionedReason } from '../../src/domain/inventory.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { startSshd } from '../support/sshd-server.ts';
import { HttpProbe } from '../../src/probes/http-probe.ts';
import type { ProbeTarget } from '../../src/probes/probe-target.ts';
import { startNginxPrefix, type NginxPrefix } from '../support/nginx-prefix.ts';
import { freePort } from '../support/ports.ts';
import { startPdnsServer, type PdnsServer } from '../support/pdns-server.ts';
import { startPebble, type PebbleServer } from '../support/pebble-server.ts';

const ZONE = 'shop.test';
const ALT = 'shop-mirror.test';

describe('ACME DNS-01 at every provider (pebble, embedded DNS + PowerDNS)', { timeout: 180_000 }, () => {
  let pdns: PdnsServer;
  let embedded: EmbeddedDnsServer;
  let pebble: PebbleServer;
  let drivers: DnsDriver[];
  let stateDir: string;
  const spec = { domain: ZONE, alternateDomains: [ALT] };

  const txtAt = async (server: string, name: string) => {
    const r = await queryDns({ server, name, type: 'TXT', timeoutMs: 500 });
    assert.ok(r.ok, `query ${name} TXT at ${server}`);
    return r.answers.filter((a) => a.type === 'TXT').map((a) => a.value);
  };

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'flotilla-acme-'));
    pdns = await startPdnsServer({ zones: [ZONE, ALT] });
    const zoneStore = openZoneStore(join(stateDir, 'zones'));
    await zoneStore.ensureZone(ZONE);
    await zoneStore.ensureZone(ALT);
    embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zoneStore });
    drivers = await createDrivers(
      [
        { name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: embedded.port, zoneDir: join(stateDir, 'zones') } },
        { name: 'pdns', kind: 'powerdns', settings: { url: pdns.apiUrl, apiKeyEnv: 'ACME_PDNS', serverId: pdns.serverId, nameservers: [pdns.dnsAddress], timeout: '500ms' } },
      ],
      { env: { ACME_PDNS: pdns.apiKey }, stateDir },
    );
    pebble = await startPebble({ dnsServer: embedded.address });
  });

  after(async () => {
    await pebble?.stop();
    await embedded?.close();
    await pdns?.stop();
  });

  it('issues one certificate for the domain and every alternate domain, challenge at both providers, removed after', async () => {
    const store = new CertStore(new FileSecretStore(stateDir));
    const seen: string[] = [];
    const lines: string[] = [];
    // watch both servers while the order runs: each must answer the challenge at some point
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const [label, server] of [['embedded', embedded.address], ['pdns', pdns.dnsAddress]] as const) {
          if ((await txtAt(server, `_acme-challenge.${ALT}`)).length > 0 && !seen.includes(label)) seen.push(label);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const issued = await issueCertificate({ spec, store, drivers, ownerId: 'acme-e2e', query: directQuery, verifyTimeoutMs: 10_000, directoryUrl: pebble.directoryUrl, directoryCa: pebble.listenerCa, email: 'ops@shop.test', log: (l) => lines.push(l) });
    watching = false;
    await watch;
    assert.deepEqual(issued.names, [ZONE, ALT]);
    assert.deepEqual(seen.sort(), ['embedded', 'pdns'], `challenge seen at: ${seen.join(', ')}\n${lines.join('\n')}`);
    const pair = await store.certificate();
    assert.ok(pair, 'certificate stored');
    assert.deepEqual(certInfo(pair.cert).names.sort(), [ALT, ZONE].sort());
    for (const f of ['site.crt', 'site.key', 'acme-account.key']) assert.equal(statSync(join(stateDir, 'secrets', f)).mode & 0o777, 0o600, f);
    assert.equal(statSync(join(stateDir, 'secrets')).mode & 0o777, 0o700);
    for (const server of [embedded.address, pdns.dnsAddress]) for (const n of [ZONE, ALT]) assert.deepEqual(await txtAt(server, `_acme-challenge.${n}`), [], `TXT left at ${server} for ${n}`);
    for (const l of lines) assert.ok(!l.includes('PRIVATE KEY'), 'no key material in the log');
  });

  /** What the mirror at 127.0.0.1:port serves for `servername`: the leaf's serial, whether it chains to `ca`, ALPN. */
  const served = (port: number, servername: string, ca: string) =>
    new Promise<{ serial: string; authorized: boolean; error?: string; alpn: string | false | null }>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        const r = { serial: s.getPeerCertificate().serialNumber, authorized: s.authorized, error: s.authorizationError?.toString(), alpn: s.alpnProtocol };
        s.end();
        resolve(r);
      });
      s.on('error', reject);
    });

  /** GET over plain HTTP with a Host header (fetch does not send one of ours). */
  const plainGet = (port: number, path: string, host: string) =>
    new Promise<{ status: number; location?: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      });
      req.on('error', reject);
      req.end();
    });

  describe('deploy to an nginx mirror on loopback (the SSH deploy script, run by sh locally)', () => {
    let nginx: NginxPrefix;
    let httpsPort: number;
    let httpPort: number;
    let store: CertStore;
    let deploy: { dir: string; nginxConf: string; webRoot: string; nginx: string };
    let root: string;

    before(async () => {
      nginx = await startNginxPrefix({ files: { 'index.html': '<h1>shop</h1>\n', '.well-known/flotilla.json': '{}\n' } });
      httpsPort = await freePort();
      httpPort = await freePort();
      deploy = { dir: join(nginx.dir, 'tls'), nginxConf: join(nginx.dir, 'conf.d', 'flotilla-tls.conf'), webRoot: nginx.webRoot, nginx: nginx.command };
      store = new CertStore(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-acme-deploy-'))));
      await issueCertificate({ spec, store, drivers, ownerId: 'acme-e2e', query: directQuery, verifyTimeoutMs: 10_000, directoryUrl: pebble.directoryUrl, directoryCa: pebble.listenerCa });
      root = await pebble.root();
    });
    after(async () => {
      await nginx?.stop();
    });

    const listen = () => ({ https: [`127.0.0.1:${httpsPort}`], http: [`127.0.0.1:${httpPort}`] });
    const until = async (pred: () => Promise<boolean>, what: string) => {
      for (let i = 0; ; i++) {
        if (await pred().catch(() => false)) return;
        if (i > 400) assert.fail(`never: ${what}\n${await nginx.errorLog()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };

    it('serves the issued certificate on 443 with HTTP/2, trusted through pebble\'s root; 80 redirects except /.well-known/', async () => {
      const pair = (await store.certificate())!;
      const r = await deployTo('m1', localRunner, siteDeployScript(spec, deploy, pair, listen()));
      assert.ok(r.ok, r.error);
      const serial = certInfo(pair.cert).serial;
      await until(async () => (await served(httpsPort, ZONE, root)).serial.toUpperCase() === serial.toUpperCase(), 'nginx serves the new certificate');
      for (const name of [ZONE, ALT]) {
        const t = await served(httpsPort, name, root);
        assert.equal(t.authorized, true, `${name}: ${t.error}`);
        assert.equal(t.alpn, 'h2', 'HTTP/2 offered');
      }
      assert.equal((await served(httpsPort, ZONE, pebble.listenerCa)).authorized, false, 'not trusted through an unrelated CA');
      const redirect = await plainGet(httpPort, '/page?x=1', ZONE);
      assert.equal(redirect.status, 301);
      assert.equal(redirect.location, `https://${ZONE}/page?x=1`);
      const wellKnown = await plainGet(httpPort, '/.well-known/flotilla.json', ZONE);
      assert.equal(wellKnown.status, 200, '/.well-known/ answers over plain HTTP');
      assert.equal(statSync(join(deploy.dir, 'site.key')).mode & 0o777, 0o600);
    });

    it('a deploy nginx refuses is rolled back: the old files back in place, the old certificate still served', async () => {
      const pair = (await store.certificate())!;
      const before = readFileSync(deploy.nginxConf, 'utf8');
      const oldKey = readFileSync(join(deploy.dir, 'site.key'), 'utf8');
      // a key that does not belong to the certificate: nginx -t fails ("key values mismatch")
      const other = new CertStore(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-acme-other-'))));
      await issueCertificate({ spec, store: other, drivers, ownerId: 'acme-e2e', query: directQuery, verifyTimeoutMs: 10_000, directoryUrl: pebble.directoryUrl, directoryCa: pebble.listenerCa });
      const wrong = { cert: pair.cert, key: (await other.certificate())!.key };
      const r = await deployTo('m1', localRunner, siteDeployScript(spec, deploy, wrong, { https: [`127.0.0.1:${httpsPort}`], http: [`127.0.0.1:${httpPort}`] }));
      assert.equal(r.ok, false);
      assert.match(r.error!, /exit 3: .*nginx -t refused/);
      assert.equal(readFileSync(deploy.nginxConf, 'utf8'), before, 'config restored');
      assert.equal(readFileSync(join(deploy.dir, 'site.key'), 'utf8'), oldKey, 'key restored');
      const t = await served(httpsPort, ZONE, root);
      assert.equal(t.authorized, true);
      assert.equal(t.serial.toUpperCase(), certInfo(pair.cert).serial.toUpperCase());
    });

    it('over SSH (a real sshd on loopback): the same script deploys a renewed certificate, served at once', async () => {
      const sshd = await startSshd();
      try {
        const pair = (await store.certificate())!;
        const oldSerial = certInfo(pair.cert).serial;
        await issueCertificate({ spec, store, drivers, ownerId: 'acme-e2e', query: directQuery, verifyTimeoutMs: 10_000, directoryUrl: pebble.directoryUrl, directoryCa: pebble.listenerCa });
        const renewed = (await store.certificate())!;
        const serial = certInfo(renewed.cert).serial;
        assert.notEqual(serial, oldSerial);
        const pins = new HostKeyPins(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-acme-pins-'))));
        const run = pinnedSshRunner({ mirror: 'ssh-box', host: '127.0.0.1', port: sshd.port, user: sshd.user, key: sshd.clientKey, pins });
        const r = await deployTo('ssh-box', run, siteDeployScript(spec, deploy, renewed, listen()));
        assert.ok(r.ok, `${r.error}\n${sshd.log()}`);
        await until(async () => (await served(httpsPort, ZONE, root)).serial.toUpperCase() === serial.toUpperCase(), 'nginx serves the renewed certificate');
        assert.equal((await served(httpsPort, ALT, root)).authorized, true);
      } finally {
        await sshd.stop();
      }
    });

    it('an aws mirror whose address is in the stored inventory gets the certificate over real SSH (sshd on loopback as the cloud host)', async () => {
      const sshd = await startSshd();
      try {
        // the address comes only from the state store's inventory, as after `flotilla up`; the stack file has none
        const stateStore = new FileStateStore(mkdtempSync(join(tmpdir(), 'flotilla-acme-inventory-')));
        await updateState(stateStore, (st) => {
          st.inventory = { updatedAt: Date.now(), stack: 'e2e', mirrors: { fra: { provider: 'aws', ipv4: '127.0.0.1', resourceId: 'i-0loopback', at: Date.now(), source: 'pulumi' } } };
        });
        await issueCertificate({ spec, store, drivers, ownerId: 'acme-e2e', query: directQuery, verifyTimeoutMs: 10_000, directoryUrl: pebble.directoryUrl, directoryCa: pebble.listenerCa });
        const renewed = (await store.certificate())!;
        const serial = certInfo(renewed.cert).serial;
        const fleet = {
          ...spec,
          // sshUser: the test's login (root) instead of the Debian image's `admin`; sshPort: the loopback sshd's
          mirrors: <MirrorSpec[]>[
            { name: 'fra', provider: 'aws', settings: { region: 'eu-central-1', sshUser: sshd.user, sshPort: sshd.port } },
            { name: 'hel', provider: 'hcloud', settings: { region: 'hel1' } },
          ],
          deploy: { sshKeyEnv: 'ACME_E2E_DEPLOY_KEY' },
          certs: { directory: pebble.directoryUrl, renewAt: 2 / 3, verifyTimeoutMs: 10_000, checkIntervalMs: 3_600_000, deploy },
        };
        const outcomes = await deployAll(fleet, renewed, { env: { ACME_E2E_DEPLOY_KEY: sshd.clientKey }, secrets: new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-acme-pins-'))), inventory: (await stateStore.load()).inventory, listen: listen() });
        const fra = outcomes.find((o) => o.mirror === 'fra')!;
        assert.ok(fra.ok && !fra.skipped, `${fra.error}\n${sshd.log()}`);
        assert.deepEqual(outcomes.find((o) => o.mirror === 'hel'), { mirror: 'hel', ok: true, skipped: true, error: notProvisionedReason('hel') });
        assert.match(deploySummary(outcomes), /^deployed to 1 of 2 mirrors \(fra\); skipped: hel/);
        await until(async () => (await served(httpsPort, ZONE, root)).serial.toUpperCase() === serial.toUpperCase(), 'nginx serves the certificate deployed to the aws mirror');
        assert.equal((await served(httpsPort, ALT, root)).authorized, true);
      } finally {
        await sshd.stop();
      }
    });

    it('the https probe checks the served chain against the CA bundle, the name, and tlsMinDays', async () => {
      // one attempt, and a fresh connection (a fresh handshake) for every check: no keep-alive connection that nginx
      // may close just as it is reused (a 'reset' with no companion to retry it; the default probe has one)
      const probe = new HttpProbe({ maxAttempts: 1, maxRequestsPerConnection: 1 });
      const target = (o: Partial<ProbeTarget>): ProbeTarget => ({ mirror: 'm1', address: '127.0.0.1', port: httpsPort, scheme: 'https', host: ZONE, path: '/', timeoutMs: 3000, expectStatus: [200], tlsMinDays: 1, tlsVerify: true, tlsCa: root, ...o });
      const sig = () => AbortSignal.timeout(10_000);
      try {
        const ok = await probe.run(target({}), sig());
        assert.equal(ok.ok, true, ok.reason);
        assert.ok(ok.tlsDaysLeft! > 1);
        const untrusted = await probe.run(target({ tlsCa: pebble.listenerCa }), sig());
        assert.equal(untrusted.ok, false, 'a chain to another CA fails');
        const wrongName = await probe.run(target({ host: 'elsewhere.test' }), sig());
        assert.equal(wrongName.ok, false, 'a certificate without the name fails');
        const soon = await probe.run(target({ tlsMinDays: ok.tlsDaysLeft! + 1 }), sig());
        assert.equal(soon.ok, false);
        assert.match(soon.reason, /TLS certificate expires in/);
      } finally {
        await probe.close();
      }
    });
  });

  it('an authoritative server that never answers the challenge: nothing is answered at the CA, the TXT is removed', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const [withDeadServer] = await createDrivers(
      [{ name: 'pdns', kind: 'powerdns', settings: { url: pdns.apiUrl, apiKeyEnv: 'ACME_PDNS', serverId: pdns.serverId, nameservers: [pdns.dnsAddress, dead], timeout: '500ms' } }],
      { env: { ACME_PDNS: pdns.apiKey }, stateDir },
    );
    const store = new CertStore(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-acme-dead-'))));
    await assert.rejects(
      issueCertificate({ spec, store, drivers: [drivers[0], withDeadServer], ownerId: 'acme-e2e', query: directQuery, verifyTimeoutMs: 1_000, directoryUrl: pebble.directoryUrl, directoryCa: pebble.listenerCa }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'CERT_DNS');
        assert.match(e.message, new RegExp(`not answered by every authoritative server within 1000ms: pdns ${dead}`));
        return true;
      },
    );
    assert.equal(await store.certificate(), undefined);
    for (const server of [embedded.address, pdns.dnsAddress]) assert.deepEqual(await txtAt(server, `_acme-challenge.${ZONE}`), []);
  });

  it('a provider that is down: no challenge answered, a clear CERT_DNS error naming it, no TXT left at the other', async () => {
    const store = new CertStore(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-acme-down-'))));
    process.kill(pdns.pid, 'SIGSTOP');
    try {
      await assert.rejects(
        issueCertificate({ spec, store, drivers, ownerId: 'acme-e2e', query: directQuery, verifyTimeoutMs: 2_000, directoryUrl: pebble.directoryUrl, directoryCa: pebble.listenerCa }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'CERT_DNS');
          assert.match(e.message, /not published at every DNS provider: pdns/);
          return true;
        },
      );
    } finally {
      process.kill(pdns.pid, 'SIGCONT');
    }
    assert.equal(await store.certificate(), undefined, 'nothing issued');
    for (const n of [ZONE, ALT]) assert.deepEqual(await txtAt(embedded.address, `_acme-challenge.${n}`), [], `TXT left at the embedded server for ${n}`);
    const zone = await drivers[0].listRecords(ZONE);
    assert.deepEqual(zone.filter((r) => r.name.includes('acme-challenge')), [], 'no challenge record or marker left in the zone file');
  });
});
