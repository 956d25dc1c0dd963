/**
 * The certificate job of a deposed leader on a REAL etcd (plus pebble and the embedded DNS server): its challenge
 * TXT write and its certificate save carry the leader's fence (leaderGuard, as the daemon wires it), so once the
 * leader key is gone (its lease ran out while it was paused) neither reaches the DNS server nor etcd.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { CertStore } from '../../src/certs/cert-store.ts';
import { runCertJob } from '../../src/certs/cert-job.ts';
import { leaderGuard } from '../../src/certs/leader-guard.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import { wrapDriver } from '../../src/drivers/driver-wrapper.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { EtcdCluster } from '../../src/state/etcd-cluster.ts';
import { openSecretStore } from '../../src/state/secret-store.ts';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { startPebble, type PebbleServer } from '../support/pebble-server.ts';

const ZONE = 'fence.test';

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a deposed leader writes neither challenge TXT nor a certificate (real etcd, pebble, embedded DNS)', { timeout: 120_000 }, () => {
  let etcd: EtcdHandle;
  let embedded: EmbeddedDnsServer;
  let pebble: PebbleServer;
  let dir: string;
  const clusters: EtcdCluster[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-cert-fence-'));
    etcd = await startEtcd();
    const zones = openZoneStore(join(dir, 'zones'));
    await zones.ensureZone(ZONE);
    embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zones });
    pebble = await startPebble({ dnsServer: embedded.address });
  });
  after(async () => {
    await Promise.all(clusters.map((c) => c.stop().catch(() => undefined)));
    await pebble?.stop();
    await embedded?.close();
    await etcd?.stop();
  });

  /** One stack per test: a leader elected on etcd, its fenced job, and a way to depose it (delete its leader key). */
  const setup = async (stack: string) => {
    const spec = {
      ...fleetFixture({ stack, domain: ZONE, alternateDomains: [] }),
      dnsProviders: [{ name: 'embedded', kind: 'local' as const, settings: { listen: '127.0.0.1', port: embedded.port, zoneDir: join(dir, 'zones') } }],
      state: { kind: 'etcd' as const, path: dir, endpoints: [etcd.endpoint], leaseMs: 2000 },
      certs: { directory: pebble.directoryUrl, renewAt: 2 / 3, verifyTimeoutMs: 10_000, checkIntervalMs: 3_600_000, deploy: { dir: '/x', nginxConf: '/x/c', webRoot: '/x/w', nginx: 'nginx' } },
    };
    const leader = new EtcdCluster({ endpoints: [etcd.endpoint], prefix: `/flotilla/${stack}/`, vantage: 'a', leaseTtlS: 2, pollMs: 50 });
    clusters.push(leader);
    await leader.start();
    await waitFor('elected', () => leader.isLeader());
    const depose = async () => {
      const c = new Etcd3({ hosts: [etcd.endpoint] });
      try {
        await c.delete().key(leader.currentFence()!.key);
      } finally {
        c.close();
      }
    };
    const [driver] = await createDrivers(spec.dnsProviders, { env: {}, stateDir: dir });
    const secrets = openSecretStore(spec);
    const raw = async (name: string) => {
      const c = new Etcd3({ hosts: [etcd.endpoint] });
      try {
        return await c.get(`/flotilla/${stack}/secrets/${name}`).string();
      } finally {
        c.close();
      }
    };
    const challengeTxt = async () => (await driver.listRecords(ZONE)).filter((r) => r.name.startsWith('_acme-challenge'));
    return { spec, leader, depose, driver, store: new CertStore(secrets), raw, challengeTxt };
  };

  it('deposed while the challenge pass is in flight (after list and plan): the TXT write is refused, nothing is recorded', async () => {
    const t = await setup('fence-txt');
    let deposed = false;
    const driver = wrapDriver(t.driver, {
      async listRecords(zone, signal) {
        // the SIGSTOP past the lease, as seen from etcd: the leader key is gone before the write
        if (!deposed) { deposed = true; await t.depose(); }
        return t.driver.listRecords(zone, signal);
      },
    });
    let deployed = false;
    await assert.rejects(
      runCertJob('issue', { spec: t.spec, drivers: [driver], query: directQuery, store: t.store, directoryCa: pebble.listenerCa, audit: async () => undefined, guard: leaderGuard(t.leader), deploy: async () => { deployed = true; return []; } }),
      (e: Error & { code?: string }) => e.code === 'NOT_LEADER' && /no longer holds revision/.test(e.message),
    );
    assert.ok(deposed);
    assert.deepEqual(await t.challengeTxt(), [], 'no challenge TXT reached the DNS server');
    assert.equal(await t.raw('site.crt'), null);
    assert.equal(await t.raw('site-cert.json'), null, 'no status (not even a failure) saved by the deposed leader');
    assert.equal(deployed, false);
    assert.equal(t.leader.isLeader(), false, 'the fence taught it that it was deposed');
  });

  it('deposed after the CA validated: the certificate the CA issued is not saved, nor deployed', async () => {
    const t = await setup('fence-save');
    let removals = 0;
    const driver = wrapDriver(t.driver, {
      async applyChanges(zone, changes, signal) {
        const r = await t.driver.applyChanges(zone, changes, signal);
        // the challenge removal (after validation) went through as leader; then the leader key goes
        if (changes.every((c) => c.action === 'delete')) { removals++; await t.depose(); }
        return r;
      },
    });
    let deployed = false;
    await assert.rejects(
      runCertJob('issue', { spec: t.spec, drivers: [driver], query: directQuery, store: t.store, directoryCa: pebble.listenerCa, audit: async () => undefined, guard: leaderGuard(t.leader), deploy: async () => { deployed = true; return []; } }),
      (e: Error & { code?: string }) => e.code === 'NOT_LEADER' && /saving secret site\.key refused/.test(e.message),
    );
    assert.equal(removals, 1, 'the challenge was answered and removed first');
    assert.ok(await t.raw('acme-account.key'), 'the account key was saved while it led');
    assert.equal(await t.raw('site.key'), null, 'no certificate key saved after the deposition');
    assert.equal(await t.raw('site.crt'), null, 'no certificate saved');
    assert.equal(await t.raw('site-cert.json'), null);
    assert.equal(deployed, false);
  });
});
