/**
 * The deplatforming drill, on real parts: a BIND parent zone `test` delegating the site's zone (drill.test) and its
 * alternate (drill-alt.test) to three providers — a BIND child, PowerDNS and the embedded server, all on port 53 —
 * a real `unbound` resolving through that parent, a fake RDAP registry, a webhook receiver and two demo mirrors.
 * The daemon's delegation duty (guard loop + manifest publisher, src/cli/delegation-duty.ts) runs against them with
 * the rfc2136 registrar writing the parent. Clients' view: A queries through unbound, sampled every 200 ms.
 * The last case runs the controller over a third zone (fleet.test) with three mirror processes on two "hosts" and
 * SIGKILLs every mirror of one host.
 *
 * unbound caps every TTL at 2 s (cache-max-ttl) so "after the TTLs" is 2 s here; in the world it is the parent's NS TTL.
 * The measured times are printed as test diagnostics (`# drill: ...`) and copied to the README.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { siteServer, type SiteServer } from '../../src/cli/demo/site-server.ts';
import { digestSite } from '../../src/config/site-digest.ts';
import { Controller } from '../../src/controller/controller.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { startDelegationDuty, type DelegationDuty } from '../../src/cli/delegation-duty.ts';
import { startAlerts, type AlertPayload, type RunningAlerts } from '../../src/controller/alerts.ts';
import type { GuardEvent } from '../../src/delegation/delegation-guard.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { generatePrivateKeyText, parsePrivateKey, publicKeyText } from '../../src/manifest/manifest-signing.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { nsupdate } from '../support/bind-server.ts';
import { DRILL_ALT as ALT, DRILL_FLEET as FLEET, DRILL_MIRRORS as MIRRORS, DRILL_NAMESERVERS as NS, DRILL_ZONE as ZONE, startDrillLab, type DrillLab } from '../support/delegation-lab.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { spawnMirrorProcess, type MirrorProcess } from '../support/mirror-server.ts';
import { freePort } from '../support/ports.ts';
import { runCli } from '../support/run-cli.ts';
import { startUnbound, type UnboundServer } from '../support/unbound-server.ts';

const INTERVAL_MS = 1000;
const TTL_CAP_S = 2;
const PAGE = '<!doctype html><h1>drill site</h1><p>the same bytes on every domain</p>\n';

interface Sample { at: number; name: string; rcode: string; answers: string[] }

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('deplatform drill: real BIND parent, BIND + PowerDNS + embedded providers, unbound, fake RDAP', { timeout: 150_000 }, () => {
  let lab: DrillLab | undefined;
  let unbound: UnboundServer | undefined;
  let rdap: Server | undefined;
  let hook: Server | undefined;
  let alerts: RunningAlerts | undefined;
  let duty: DelegationDuty | undefined;
  const mirrors: SiteServer[] = [];
  const fleetMirrors: MirrorProcess[] = [];
  let controller: Controller | undefined;
  const controllerDir = mkdtempSync(join(tmpdir(), 'flotilla-drill-fleet-'));
  /** The names the sampler asks unbound for, every 200 ms. */
  const sampled = [ZONE, ALT];
  const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-drill-state-'));
  const contentDir = mkdtempSync(join(tmpdir(), 'flotilla-drill-site-'));
  const holds: Record<string, string[]> = {};
  const received: AlertPayload[] = [];
  const events: (GuardEvent & { at: number })[] = [];
  const samples: Sample[] = [];
  let sampling = true;
  let sampler: Promise<void> | undefined;
  let rdapUrl = '';
  let hookUrl = '';
  let sitePort = 0;
  let served: string | undefined;
  const key = generatePrivateKeyText();
  const pub = publicKeyText(parsePrivateKey(key, 'key'));
  const measured: Record<string, number> = {};

  const listen = async (s: Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  const parentNs = async (zone: string) => {
    const r = await queryDns({ server: lab!.parent.address, name: zone, type: 'NS', timeoutMs: 1000 });
    return r.ok ? [...r.answers, ...r.authority].filter((a) => a.type === 'NS' && a.name === zone).map((a) => a.value).sort() : [];
  };
  const since = (t0: number, name: string) => samples.filter((s) => s.at >= t0 && s.name === name);

  before(async () => {
    writeFileSync(join(contentDir, 'index.html'), PAGE);
    rdap = createServer((req, res) => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/rdap+json' }).end(JSON.stringify(body));
      if (req.url === '/bootstrap.json') return send(200, { version: '1.0', services: [[['test'], [`${rdapUrl}/rdap/`]]] });
      const m = /^\/rdap\/domain\/([^/?]+)$/.exec(req.url ?? '');
      if (!m) return send(404, { errorCode: 404 });
      const name = decodeURIComponent(m[1]);
      send(200, { objectClassName: 'domain', ldhName: name, status: holds[name] ?? ['active'], events: [{ eventAction: 'expiration', eventDate: new Date(Date.now() + 400 * 86_400_000).toISOString() }] });
    });
    rdapUrl = await listen(rdap);
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body) as AlertPayload);
        res.writeHead(204).end();
      });
    });
    hookUrl = await listen(hook);

    lab = await startDrillLab();
    unbound = await startUnbound({ stubZone: 'test', parent: lab.parent.address, cacheMaxTtl: TTL_CAP_S });
    sitePort = await freePort(MIRRORS[0]);
    for (const host of MIRRORS) {
      const m = siteServer({ host, port: sitePort, contentDir, manifest: () => served });
      await m.start();
      mirrors.push(m);
    }

    const spec = fleetFixture({
      stack: 'drill',
      site: { name: 'drill-site', contentDir, digest: 'd', files: {} },
      domain: ZONE,
      alternateDomains: [ALT],
      dnsProviders: [{ name: 'bind', kind: 'rfc2136', settings: {} }, { name: 'pdns', kind: 'powerdns', settings: {} }, { name: 'embedded', kind: 'local', settings: {} }],
      registrars: [ZONE, ALT].map((domain, i) => ({ name: `parent${i}`, kind: 'rfc2136' as const, domain, settings: { server: lab!.parent.address, tsigKeyName: lab!.parent.keyName, tsigAlgorithm: 'hmac-sha256', tsigSecretEnv: 'PARENT_TSIG', timeout: '2s', parentZone: 'test', ttl: 60 } })),
      state: { kind: 'file', path: stateDir, endpoints: [] },
      delegation: { parents: [lab.parent.address], roots: [], nameserverPort: 53, nameservers: NS, resolver: unbound.address, rdapBootstrap: `${rdapUrl}/bootstrap.json`, expiryWarnDays: 30, timeoutMs: 1000, intervalMs: INTERVAL_MS, pruneAfter: 2, restoreAfter: 2, manifestKeyEnv: 'DRILL_MANIFEST_KEY' },
    });
    // the daemon's wiring: audit into the store, then 'audit' to the alert sender
    const store = new FileStateStore(stateDir);
    const bus = Object.assign(new EventEmitter(), { spec: { stack: 'drill' } });
    alerts = startAlerts({ controller: bus, webhooks: [{ url: hookUrl, kind: 'json' }] });
    const audit = async (e: Omit<AuditEvent, 'at'>) => {
      const ev = { at: Date.now(), ...e } as AuditEvent;
      await store.append(ev);
      bus.emit('audit', ev);
    };
    const run = async () => {
      while (sampling) {
        const tick = Date.now();
        await Promise.all(sampled.map(async (name) => {
          const r = await queryDns({ server: unbound!.address, name, type: 'A', timeoutMs: 1000, recursion: true });
          samples.push({ at: tick, name, rcode: r.ok ? r.rcode : `no answer (${r.error})`, answers: r.ok ? r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort() : [] });
        }));
        await new Promise((r) => setTimeout(r, Math.max(0, tick + 200 - Date.now())));
      }
    };
    await waitFor('the site to resolve through unbound', async () => {
      const r = await queryDns({ server: unbound!.address, name: ZONE, type: 'A', timeoutMs: 1000, recursion: true });
      return r.ok && r.rcode === 'NOERROR' && r.answers.length === 2;
    }, 15_000);
    sampler = run();
    duty = await startDelegationDuty(spec, { store, drivers: [], env: { PARENT_TSIG: lab.parent.secret, DRILL_MANIFEST_KEY: key }, audit, serve: (j) => { served = j; }, onEvent: (e) => events.push({ ...e, at: Date.now() }) });
    assert.ok(duty, 'the duty runs (delegation.interval > 0)');
  });

  after(async () => {
    sampling = false;
    await sampler?.catch(() => undefined);
    await duty?.stop();
    await controller?.stop();
    await alerts?.stop();
    for (const m of mirrors) await m.kill();
    await Promise.all(fleetMirrors.map((m) => m.stop()));
    await unbound?.stop();
    await lab?.stop();
    for (const s of [rdap, hook]) if (s) await new Promise((r) => { s.closeAllConnections(); s.close(r); });
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(contentDir, { recursive: true, force: true });
    rmSync(controllerDir, { recursive: true, force: true });
    if (Object.keys(measured).length) process.stdout.write(`# drill measured: ${JSON.stringify(measured)}\n`);
  });

  it('a provider deletes the zone → pruned at the parent; no SERVFAIL through unbound after the TTLs', async (t) => {
    const all = Object.values(NS).flat().sort();
    assert.deepEqual(await parentNs(ZONE), all);
    assert.equal(JSON.parse(served!).manifest.sequence, 1, 'the first manifest is published at start');
    const t0 = Date.now();
    await lab!.deletePdnsZone(ZONE);
    await waitFor('PowerDNS pruned at the parent', async () => !(await parentNs(ZONE)).includes('ns1.pdns-dns.test'), 20_000);
    const tPrune = Date.now();
    assert.deepEqual(await parentNs(ZONE), ['ns1.bind-dns.test', 'ns1.embedded-dns.test']);
    // after the TTLs (2 s here) every answer a client gets is the site
    const settled = tPrune + TTL_CAP_S * 1000;
    await waitFor('3 s of samples after the TTLs', () => since(settled, ZONE).length >= 15, 20_000);
    const after_ = since(settled, ZONE);
    assert.deepEqual(after_.filter((s) => s.rcode !== 'NOERROR' || s.answers.join(',') !== MIRRORS.join(',')), [], 'no SERVFAIL (or anything but the site) after the TTLs');
    const servfail = since(t0, ZONE).filter((s) => s.rcode !== 'NOERROR').length;
    measured.pruneMs = tPrune - t0;
    measured.servfailSamplesDuringPrune = servfail;
    measured.samplesDuringPrune = since(t0, ZONE).filter((s) => s.at <= settled).length;
    t.diagnostic(`drill: zone deleted at PowerDNS → pruned at the parent in ${measured.pruneMs} ms (pruneAfter 2, interval 1 s); ${servfail} of ${since(t0, ZONE).length} client samples not NOERROR`);
    assert.ok(events.some((e) => e.kind === 'prune' && e.zone === ZONE));
  });

  it('the provider returns → restored at the parent', async (t) => {
    const t0 = Date.now();
    await lab!.createPdnsZone(ZONE);
    await waitFor('PowerDNS restored at the parent', async () => (await parentNs(ZONE)).includes('ns1.pdns-dns.test'), 20_000);
    measured.restoreMs = Date.now() - t0;
    t.diagnostic(`drill: zone back at PowerDNS → restored at the parent in ${measured.restoreMs} ms (restoreAfter 2)`);
    assert.deepEqual(await parentNs(ZONE), Object.values(NS).flat().sort());
    // the guard tells the restore after its read-back of the parent: the parent can show it a moment before
    await waitFor('the restore event', () => events.some((e) => e.kind === 'restore' && e.zone === ZONE), 5000);
  });

  it('the delegation is removed at the parent → lost within one check, alerted, manifest re-signed; the alternate still resolves and serves the same bytes', async (t) => {
    const seq = JSON.parse(served!).manifest.sequence as number;
    const t0 = Date.now();
    await nsupdate(lab!.parent, 'test', [`update delete ${ZONE}. NS`]);
    const lost = await waitFor('the lost event', () => events.find((e) => e.kind === 'lost' && e.zone === ZONE), 10_000);
    measured.lostMs = lost.at - t0;
    // one check: the next round after the removal (interval 1 s + a round) sees it
    assert.ok(measured.lostMs <= 2 * INTERVAL_MS + 1000, `lost after ${measured.lostMs} ms`);
    const alert = await waitFor('the webhook alert', () => received.find((a) => a.kind === 'delegation' && a.data?.event === 'lost' && a.data?.zone === ZONE), 10_000);
    assert.equal(alert.severity, 'critical');
    const doc = await waitFor('the next manifest', () => served && JSON.parse(served).manifest.sequence === seq + 1 && JSON.parse(served), 10_000);
    measured.manifestMs = Date.now() - t0;
    assert.deepEqual(doc.manifest.live, [ALT]);
    assert.deepEqual(doc.manifest.lost.map((l: { domain: string }) => l.domain), [ZONE]);
    // every mirror serves it, and it verifies with the pinned key
    for (const host of MIRRORS) {
      const v = await runCli(['manifest', 'verify', `http://${host}:${sitePort}/.well-known/flotilla.json`, '--key', pub]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, new RegExp(ALT.replace('.', '\\.')));
    }
    // clients: the alternate resolves through unbound and serves the same bytes as the lost domain did
    const alt = await queryDns({ server: unbound!.address, name: ALT, type: 'A', timeoutMs: 1000, recursion: true });
    assert.ok(alt.ok && alt.rcode === 'NOERROR');
    const ips = alt.answers.filter((a) => a.type === 'A').map((a) => a.value).sort();
    assert.deepEqual(ips, MIRRORS);
    const body = await (await fetch(`http://${ips[0]}:${sitePort}/`, { headers: { host: ALT } })).text();
    assert.equal(body, readFileSync(join(contentDir, 'index.html'), 'utf8'));
    assert.deepEqual(since(t0, ALT).filter((s) => s.rcode !== 'NOERROR'), [], 'the alternate never failed for clients');
    t.diagnostic(`drill: delegation removed → marked lost in ${measured.lostMs} ms, manifest ${seq + 1} served in ${measured.manifestMs} ms`);
  });

  it('RDAP says serverHold → alerted within a check', async (t) => {
    const t0 = Date.now();
    holds[ALT] = ['server hold', 'client transfer prohibited'];
    const alert = await waitFor('the registry alert', () => received.find((a) => a.kind === 'delegation' && a.data?.event === 'registry' && a.data?.zone === ALT), 10_000);
    measured.holdAlertMs = Date.parse(alert.at) - t0;
    assert.match(alert.message, /serverHold/);
    await waitFor('the alternate marked lost', () => events.find((e) => e.kind === 'lost' && e.zone === ALT), 5000);
    t.diagnostic(`drill: RDAP serverHold → alert in ${measured.holdAlertMs} ms`);
  });

  it('every mirror of one host provider gone → through unbound only the other host’s mirrors, never an empty answer or SERVFAIL', async (t) => {
    // two hosts: "ssh" (a VPS host, two mirrors) and "local" (one); the controller writes fleet.test at all three providers
    const fleet = [
      { name: 'vps-1', provider: 'ssh' as const, ipv4: '127.0.0.31' },
      { name: 'vps-2', provider: 'ssh' as const, ipv4: '127.0.0.32' },
      { name: 'home-1', provider: 'local' as const, ipv4: '127.0.0.33' },
    ];
    const gone = fleet.filter((m) => m.provider === 'ssh').map((m) => m.ipv4);
    const left = fleet.filter((m) => m.provider !== 'ssh').map((m) => m.ipv4);
    for (const m of fleet) fleetMirrors.push(spawnMirrorProcess({ host: m.ipv4, port: 0, contentDir }));
    const ports = await Promise.all(fleetMirrors.map(async (m) => (await m.ready).port));
    const site = await digestSite(contentDir);
    const [pdnsHost, pdnsPort] = lab!.pdns.dnsAddress.split(':');
    const spec = fleetFixture({
      stack: 'drill-fleet',
      site: { name: 'drill-site', contentDir, digest: site.digest, files: site.files },
      domain: FLEET,
      alternateDomains: [],
      mirrors: fleet.map((m, i) => ({ ...m, settings: {}, health: { port: ports[i] } })),
      dnsProviders: [
        { name: 'bind', kind: 'rfc2136', settings: { server: lab!.child.address, tsigKeyName: lab!.child.keyName, tsigSecretEnv: 'FLEET_TSIG' } },
        { name: 'pdns', kind: 'powerdns', settings: { url: lab!.pdns.apiUrl, apiKeyEnv: 'FLEET_PDNS', serverId: lab!.pdns.serverId, nameservers: [`${pdnsHost}:${pdnsPort}`], timeout: '1s' } },
        { name: 'embedded', kind: 'local', settings: { listen: '127.0.4.3', port: 53, zoneDir: lab!.zoneDir } },
      ],
      // fall 3 at 250 ms; a whole host is 2 of 3 mirrors, so the share rail must allow removing it
      policy: { ttl: 5, minHealthy: 1, maxRemoveShare: 1, ownerId: 'drill-fleet' },
      state: { kind: 'file', path: controllerDir, endpoints: [] },
    });
    const drivers = await createDrivers(spec.dnsProviders, { env: { FLEET_TSIG: lab!.child.secret, FLEET_PDNS: lab!.pdns.apiKey }, stateDir: controllerDir });
    controller = new Controller({ spec, store: new FileStateStore(controllerDir), drivers, query: directQuery, verifyDeadlineMs: 5000, resyncMs: 1000, overridePollMs: 100 });
    await controller.start();
    const all = fleet.map((m) => m.ipv4).sort();
    await waitFor('unbound answers all three mirrors for fleet.test', async () => {
      const r = await queryDns({ server: unbound!.address, name: FLEET, type: 'A', timeoutMs: 1000, recursion: true });
      return r.ok && r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort().join(',') === all.join(',');
    }, 20_000);
    sampled.push(FLEET);
    await waitFor('a first fleet sample', () => samples.some((s) => s.name === FLEET), 5000);

    const t0 = Date.now();
    for (const m of fleetMirrors.slice(0, 2)) m.kill('SIGKILL');
    // settled: a run of 3 s (15 samples) answering only the other host's mirror
    const clean = (s: Sample) => s.rcode === 'NOERROR' && s.answers.join(',') === left.join(',');
    await waitFor('3 s of samples with only the other host', () => {
      const xs = since(t0, FLEET);
      let run = 0;
      while (run < xs.length && clean(xs[xs.length - 1 - run])) run++;
      return run >= 15;
    }, 20_000);
    const xs = since(t0, FLEET);
    assert.deepEqual(xs.filter((s) => s.rcode !== 'NOERROR' || s.answers.length === 0), [], 'never an empty answer or SERVFAIL');
    assert.deepEqual(xs.filter((s) => s.answers.some((a) => !all.includes(a))), [], 'only the fleet answered');
    const dead = xs.filter((s) => s.answers.some((a) => gone.includes(a)));
    const lastDead = dead.at(-1);
    measured.hostGoneMs = lastDead ? lastDead.at - t0 : 0;
    measured.hostGoneSamples = xs.length;
    measured.hostGoneDeadSamples = dead.length;
    t.diagnostic(`drill: both mirrors of one host killed → last sample with a dead address ${measured.hostGoneMs} ms after the kill (${dead.length} of ${xs.length} samples; fall 3 at 250 ms, TTL 2 s at unbound); 0 empty/SERVFAIL`);
    await controller.stop();
    controller = undefined;
  });
});
