/**
 * The daemon's certificate loop on real parts (pebble asking the embedded DNS server): it issues at start when there
 * is no certificate, audits it, puts the expiry on /metrics, and a second check finds nothing due.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerCertMetrics } from '../../src/certs/cert-metrics.ts';
import { createMetricRegistry } from '../../src/server/metrics-registry.ts';
import { CertStore, type CertStatus } from '../../src/certs/cert-store.ts';
import type { CertJobResult } from '../../src/certs/cert-job.ts';
import { EventEmitter } from 'node:events';
import { FOLLOWER_NOTE, startRenewLoop } from '../../src/certs/renew-loop.ts';
import { runCertJob } from '../../src/certs/cert-job.ts';
import { runnerFor } from '../../src/certs/cert-deploy.ts';
import { HostKeyPins } from '../../src/certs/host-key-pins.ts';
import type { DeployTarget } from '../../src/certs/deploy-targets.ts';
import { severityOf, ALERT_KINDS } from '../../src/controller/alerts.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { FileSecretStore } from '../../src/state/secret-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { startPebble, type PebbleServer } from '../support/pebble-server.ts';

describe('the daemon renew loop (pebble + embedded DNS)', { timeout: 120_000 }, () => {
  let embedded: EmbeddedDnsServer;
  let pebble: PebbleServer;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-renew-loop-'));
    const zones = openZoneStore(join(dir, 'zones'));
    await zones.ensureZone('loop.test');
    embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zones });
    pebble = await startPebble({ dnsServer: embedded.address });
  });
  after(async () => {
    await pebble?.stop();
    await embedded?.close();
  });

  it('issues at start, audits it, shows the expiry on /metrics; the next check finds nothing due', async () => {
    const spec = {
      ...fleetFixture({ domain: 'loop.test', alternateDomains: ['www.loop.test'] }),
      dnsProviders: [{ name: 'embedded', kind: 'local' as const, settings: { listen: '127.0.0.1', port: embedded.port, zoneDir: join(dir, 'zones') } }],
      certs: { directory: pebble.directoryUrl, renewAt: 2 / 3, verifyTimeoutMs: 10_000, checkIntervalMs: 3_600_000, deploy: { dir: '/x', nginxConf: '/x/c', webRoot: '/x/w', nginx: 'nginx' } },
    };
    const drivers = await createDrivers(spec.dnsProviders, { env: {}, stateDir: dir });
    const store = new CertStore(new FileSecretStore(dir));
    const audit: Omit<AuditEvent, 'at'>[] = [];
    let latest: CertStatus | undefined;
    const registry = createMetricRegistry();
    registerCertMetrics(registry, () => latest);
    const results: CertJobResult[] = [];
    let first!: (r: CertJobResult) => void;
    const firstDone = new Promise<CertJobResult>((r) => (first = r));
    const loop = startRenewLoop({
      spec, drivers, query: directQuery, store, intervalMs: spec.certs.checkIntervalMs, directoryCa: pebble.listenerCa,
      audit: async (e) => { audit.push(e); },
      deploy: async () => [],
      onResult: (r) => { latest = r.status; results.push(r); first(r); },
    });
    try {
      const r = await firstDone;
      assert.equal(r.action, 'issued', JSON.stringify(r));
      assert.ok(audit.some((e) => e.kind === 'cert' && /certificate issued for loop\.test, www\.loop\.test/.test(e.message)));
      const metrics = await registry.metrics();
      const m = /flotilla_certificate_expiry_timestamp_seconds\{names="loop\.test,www\.loop\.test"\} (\d+)/.exec(metrics);
      assert.ok(m, metrics);
      assert.equal(Number(m[1]), Math.floor(latest!.notAfter! / 1000));
      assert.match(metrics, /flotilla_certificate_renewal_failures 0/);
      const again = await loop.checkNow();
      assert.equal(again?.action, 'not-due');
    } finally {
      await loop.stop();
    }
  });

  it('a mirror that refuses the deploy: cert-error CERT_DEPLOY naming it, recorded per mirror; the others are deployed', async () => {
    const spec = {
      ...fleetFixture({ domain: 'loop.test', alternateDomains: [] }),
      dnsProviders: [{ name: 'embedded', kind: 'local' as const, settings: { listen: '127.0.0.1', port: embedded.port, zoneDir: join(dir, 'zones') } }],
      certs: { directory: pebble.directoryUrl, renewAt: 2 / 3, verifyTimeoutMs: 10_000, checkIntervalMs: 3_600_000, deploy: { dir: '/x', nginxConf: '/x/c', webRoot: '/x/w', nginx: 'nginx' } },
    };
    const drivers = await createDrivers(spec.dnsProviders, { env: {}, stateDir: dir });
    const store = new CertStore(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-deploy-fail-'))));
    const audit: Omit<AuditEvent, 'at'>[] = [];
    const r = await runCertJob('issue', {
      spec, drivers, query: directQuery, store, directoryCa: pebble.listenerCa,
      audit: async (e) => { audit.push(e); },
      deploy: async () => [{ mirror: 'm0', ok: true }, { mirror: 'm1', ok: false, error: 'exit 3: nginx -t refused the new configuration; rolled back' }, { mirror: 'm2', ok: true, skipped: true, error: 'no address known' }],
    });
    assert.equal(r.action, 'issued');
    const e = audit.find((x) => x.kind === 'cert-error');
    assert.ok(e, JSON.stringify(audit));
    assert.match(e.message, /certificate not deployed to m1 \(it keeps its old one\): exit 3/);
    assert.equal(e.data?.code, 'CERT_DEPLOY');
    const st = await store.status();
    assert.equal(st!.deployed!.m0.serial, r.action === 'issued' ? r.issued.serial : '');
    assert.match(st!.deployed!.m1.error!, /nginx -t refused/);
    assert.equal(st!.deployed!.m2.skipped, true, 'a skipped mirror is recorded as skipped');
    assert.equal(st!.deployed!.m2.serial, undefined, 'and not as holding the certificate');
    assert.equal(st!.deployed!.m2.error, 'no address known');
    assert.equal(st!.deploySummary, 'deployed to 1 of 3 mirrors (m0); skipped: m2 (no address known); failed: m1');
    assert.ok(audit.some((x) => x.kind === 'cert' && /skipped: m2/.test(x.message)), 'the skip is audited');
  });

  it('two renewals at once (cron beside the daemon): one order; the other waits for it and finds nothing due', async () => {
    const spec = {
      ...fleetFixture({ domain: 'loop.test', alternateDomains: [] }),
      dnsProviders: [{ name: 'embedded', kind: 'local' as const, settings: { listen: '127.0.0.1', port: embedded.port, zoneDir: join(dir, 'zones') } }],
      certs: { directory: pebble.directoryUrl, renewAt: 2 / 3, verifyTimeoutMs: 10_000, checkIntervalMs: 3_600_000, deploy: { dir: '/x', nginxConf: '/x/c', webRoot: '/x/w', nginx: 'nginx' } },
    };
    const drivers = await createDrivers(spec.dnsProviders, { env: {}, stateDir: dir });
    const store = new CertStore(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-two-orders-'))));
    const job = () => runCertJob('renew', { spec, drivers, query: directQuery, store, directoryCa: pebble.listenerCa, audit: async () => undefined, deploy: async () => [] });
    const results = await Promise.all([job(), job()]);
    assert.deepEqual(results.map((r) => r.action).sort(), ['issued', 'not-due']);
  });

  it('runnerFor: a target over SSH with the key from its variable; an unset variable is skipped with why', () => {
    const t: DeployTarget = { mirror: 'x', provider: 'aws', host: '192.0.2.10', port: 22, user: 'admin', keyEnv: 'FLEET_KEY', addressFrom: 'pulumi' };
    const pins = new HostKeyPins(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-pins-'))));
    assert.ok('run' in runnerFor(t, { FLEET_KEY: 'k' }, pins));
    assert.deepEqual(runnerFor(t, {}, pins), { skip: 'the environment variable FLEET_KEY (its SSH key) is not set' });
  });

  it('cert-error is an alerting kind (warning; critical for a changed SSH host key)', () => {
    assert.ok((ALERT_KINDS as readonly string[]).includes('cert-error'));
    assert.equal(severityOf({ at: 0, kind: 'cert-error', message: 'x' }), 'warning');
    // a changed SSH host key may be someone in the path: it pages
    assert.equal(severityOf({ at: 0, kind: 'cert-error', message: 'x', data: { code: 'CERT_HOST_KEY' } }), 'critical');
    assert.equal(severityOf({ at: 0, kind: 'cert-error', message: 'x', data: { code: 'CERT_DEPLOY' } }), 'warning');
  });
});

describe('the renew loop on several controllers: only the leader checks (injected cluster, no CA)', () => {
  const spec = {
    ...fleetFixture({ domain: 'gate.test', alternateDomains: [] }),
    certs: { directory: 'https://ca.invalid/dir', renewAt: 2 / 3, verifyTimeoutMs: 1_000, checkIntervalMs: 3_600_000, deploy: { dir: '/x', nginxConf: '/x/c', webRoot: '/x/w', nginx: 'nginx' } },
  };
  /** A cluster whose leadership the test flips, as EtcdCluster emits it. */
  const fakeCluster = (leader: boolean) => Object.assign(new EventEmitter(), { leader, isLeader(this: { leader: boolean }) { return this.leader; } });

  it('a follower stays idle; elected: it checks at once; deposed: the check in flight is aborted and nothing is audited', async () => {
    const cluster = fakeCluster(false);
    const jobs: { signal: AbortSignal; done: (r: CertJobResult) => void }[] = [];
    const audit: Omit<AuditEvent, 'at'>[] = [];
    const roles: string[] = [];
    const results: CertJobResult[] = [];
    const loop = startRenewLoop({
      spec, drivers: [], query: directQuery, store: new CertStore(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-gate-')))),
      intervalMs: spec.certs.checkIntervalMs, audit: async (e) => { audit.push(e); },
      role: cluster, onRole: (l) => roles.push(l), onResult: (r) => results.push(r),
      // a check that runs until the test ends it, or until it is aborted (rejecting with the abort reason)
      job: (signal) => new Promise<CertJobResult>((resolve, reject) => {
        jobs.push({ signal, done: resolve });
        signal.addEventListener('abort', () => reject(signal.reason));
      }),
    });
    try {
      assert.equal(jobs.length, 0, 'a follower starts no check');
      assert.equal(loop.describe(), FOLLOWER_NOTE);
      assert.equal(loop.active(), false);
      assert.equal(await loop.checkNow(), undefined, 'checkNow on a follower runs nothing');
      assert.equal(jobs.length, 0);

      cluster.leader = true;
      cluster.emit('elected');
      assert.equal(jobs.length, 1, 'elected: a check starts at once');
      assert.equal(loop.active(), true);
      assert.match(loop.describe(), /^leader: checking every 3600s/);

      cluster.leader = false;
      cluster.emit('deposed');
      assert.equal(jobs[0].signal.aborted, true, 'deposed: the check in flight is aborted');
      assert.equal(loop.describe(), FOLLOWER_NOTE);
      assert.equal(await loop.checkNow(), undefined, 'and no new one runs');
      assert.equal(jobs.length, 1);
      assert.deepEqual(audit, [], 'an aborted check is no certificate failure');
      assert.deepEqual(results, [], 'nor a result to show');

      cluster.leader = true;
      cluster.emit('elected');
      assert.equal(jobs.length, 2, 'elected again: checks at once');
      const notDue: CertJobResult = { action: 'not-due', reason: 'renews later', renewsAt: Date.now() + 86_400_000, status: { names: ['gate.test'], directory: spec.certs.directory, failures: 0 } };
      const again = loop.checkNow();
      jobs[1].done(notDue);
      // a leader's checkNow runs a check of its own, after the one in flight
      while (jobs.length < 3) await new Promise((r) => setImmediate(r));
      jobs[2].done(notDue);
      assert.equal((await again)?.action, 'not-due');
      assert.equal(results.length, 2);
      assert.deepEqual(roles, [FOLLOWER_NOTE, 'leader: checking every 3600s', FOLLOWER_NOTE, 'leader: checking every 3600s']);
    } finally {
      await loop.stop();
    }
  });

  it('without a role (one daemon, file store) it checks at start', async () => {
    let calls = 0;
    const loop = startRenewLoop({
      spec, drivers: [], query: directQuery, store: new CertStore(new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-gate-')))),
      intervalMs: spec.certs.checkIntervalMs, audit: async () => undefined,
      job: async () => { calls++; return { action: 'not-due', reason: 'x', renewsAt: Date.now() + 86_400_000, status: { names: [], directory: '', failures: 0 } }; },
    });
    assert.equal(calls, 1);
    assert.equal(loop.active(), true);
    await loop.stop();
  });
});
