/**
 * The controller against real parts: three mirror processes on 127.0.0.11-13, and as DNS providers at once the
 * embedded server, BIND9 over RFC 2136 + TSIG, and PowerDNS over its API. Every assertion is a direct DNS query at
 * every server. Interval 250 ms, timeout 200 ms, fall 3, rise 2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Controller } from '../../src/controller/controller.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { digestSite } from '../../src/config/site-digest.ts';
import { startBind, type DnsServerHandle } from '../support/bind-server.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { spawnMirrorProcess, type MirrorProcess } from '../support/mirror-server.ts';
import { startPdnsServer, type PdnsServer } from '../support/pdns-server.ts';
import { REPO } from '../support/run-cli.ts';

const ZONE = 'flotilla.test';
const IPS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
const NAMES = ['a', 'b', 'c'];

describe('controller e2e: real mirrors, embedded + BIND + PowerDNS', { timeout: 240_000 }, () => {
  let mirrors: MirrorProcess[] = [];
  let ports: number[] = [];
  let bind: DnsServerHandle;
  let pdns: PdnsServer;
  let embedded: EmbeddedDnsServer;
  let controller: Controller;
  let store: FileStateStore;
  let spec: FleetSpec;
  let servers: { label: string; address: string }[];
  const contentDir = join(REPO, 'site');

  async function startMirrorAt(i: number, port = 0) {
    const m = spawnMirrorProcess({ host: IPS[i], port, contentDir });
    const r = await m.ready;
    mirrors[i] = m;
    return r.port;
  }

  /** Values of flotilla.test A at one server. */
  async function answer(address: string): Promise<string[]> {
    const r = await queryDns({ server: address, name: ZONE, type: 'A', timeoutMs: 300 });
    return r.ok ? r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort() : [`error: ${r.error}`];
  }

  /** Polls every server every 20 ms until `pred` holds at all of them; returns ms per server since `t0`. */
  async function until(pred: (vals: string[]) => boolean, what: string, timeoutMs: number, t0 = performance.now()) {
    const times: Record<string, number> = {};
    await Promise.all(
      servers.map(async (s) => {
        for (;;) {
          const vals = await answer(s.address);
          if (pred(vals)) { times[s.label] = Math.round(performance.now() - t0); return; }
          if (performance.now() - t0 > timeoutMs) assert.fail(`${s.label} (${s.address}) never ${what}; it answers ${vals.join(' ')}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }),
    );
    return times;
  }
  /** Resolves at the controller's next probe result for `mirror`. */
  const nextProbeOf = (mirror: string) =>
    new Promise<void>((resolve) => {
      const on = (r: { mirror: string }) => {
        if (r.mirror !== mirror) return;
        controller.off('probe', on);
        resolve();
      };
      controller.on('probe', on);
    });
  const without = (ip: string) => (v: string[]) => v.length > 0 && !v.includes(ip) && !v.some((x) => x.startsWith('error'));
  const exactly = (ips: string[]) => (v: string[]) => v.join(',') === [...ips].sort().join(',');

  before(async () => {
    ensurePackages({ named: 'bind9', pdns_server: 'pdns-server', dig: 'dnsutils' });
    for (let i = 0; i < 3; i++) ports[i] = await startMirrorAt(i);
    bind = await startBind({ zones: [ZONE] });
    pdns = await startPdnsServer({ zones: [ZONE] });
    const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-e2e-'));
    const zoneStore = openZoneStore(join(stateDir, 'zones'));
    await zoneStore.ensureZone(ZONE);
    embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zoneStore });
    const site = await digestSite(contentDir);
    spec = {
      stack: 'e2e',
      site: { name: 'sample', contentDir, digest: site.digest, files: site.files },
      domain: ZONE,
      alternateDomains: [],
      mirrors: NAMES.map((n, i) => ({ name: n, provider: 'local', ipv4: IPS[i], settings: {}, health: { port: ports[i] } })),
      dnsProviders: [
        { name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: embedded.port, zoneDir: join(stateDir, 'zones') } },
        { name: 'bind', kind: 'rfc2136', settings: { server: bind.address, tsigKeyName: bind.keyName, tsigSecretEnv: 'E2E_TSIG' } },
        { name: 'pdns', kind: 'powerdns', settings: { url: pdns.apiUrl, apiKeyEnv: 'E2E_PDNS', serverId: pdns.serverId, nameservers: [pdns.dnsAddress], timeout: '500ms' } },
      ],
      registrars: [],
      health: { intervalMs: 250, timeoutMs: 200, rise: 2, fall: 3, path: '/', scheme: 'http', expectStatus: [200], checkDigest: true, tlsMinDays: 7, jitter: 0.1 },
      canaries: [{ target: `${embedded.address}` }],
      policy: { ttl: 5, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'e2e' },
      state: { kind: 'file', path: stateDir, endpoints: [] },
      server: { listen: '127.0.0.1', port: 0, tokenEnv: 'X' },
    };
    servers = [
      { label: 'embedded', address: embedded.address },
      { label: 'bind', address: bind.address },
      { label: 'pdns', address: pdns.dnsAddress },
    ];
    const drivers = await createDrivers(spec.dnsProviders, { env: { E2E_TSIG: bind.secret, E2E_PDNS: pdns.apiKey }, stateDir });
    store = new FileStateStore(stateDir);
    controller = new Controller({ spec, store, drivers, query: directQuery, verifyDeadlineMs: 5000, resyncMs: 1000, overridePollMs: 100, log: (l) => console.error(`controller: ${l}`) });
    await controller.start();
  });

  after(async () => {
    await controller?.stop();
    await Promise.all(mirrors.map((m) => m?.stop()));
    await embedded?.close();
    await bind?.stop();
    await pdns?.stop();
  });

  it('publishes all three healthy mirrors at every server', async () => {
    await until(exactly(IPS), 'answered all three mirrors', 10_000);
  });

  it('a mirror killed with SIGKILL leaves every answer (kill-to-gone logged per server)', async () => {
    const t0 = performance.now();
    mirrors[0].kill('SIGKILL');
    const times = await until(without(IPS[0]), 'dropped the killed mirror', 5000, t0);
    console.log(`# kill-to-gone (interval 250ms, fall 3): ${Object.entries(times).map(([k, v]) => `${k} ${v}ms`).join(', ')}`);
    for (const v of Object.values(times)) assert.ok(v < 2000, `kill-to-gone ${v}ms`);
  });

  it('it returns after `rise` good probes once restarted', async () => {
    await startMirrorAt(0, ports[0]);
    const times = await until(exactly(IPS), 'took the mirror back', 5000);
    console.log(`# restart-to-back: ${Object.entries(times).map(([k, v]) => `${k} ${v}ms`).join(', ')}`);
  });

  it('a hung mirror (SIGSTOP) leaves after about timeout × fall, and returns on SIGCONT', async () => {
    const t0 = performance.now();
    mirrors[1].kill('SIGSTOP');
    const times = await until(without(IPS[1]), 'dropped the hung mirror', 5000, t0);
    console.log(`# hang-to-gone: ${Object.entries(times).map(([k, v]) => `${k} ${v}ms`).join(', ')}`);
    mirrors[1].kill('SIGCONT');
    await until(exactly(IPS), 'took the mirror back after SIGCONT', 5000);
  });

  it('a mirror serving different bytes leaves (digest check), and returns when fixed', async () => {
    await mirrors[2].setMode('wrong-bytes');
    await until(without(IPS[2]), 'dropped the mirror with the wrong bytes', 5000);
    assert.match(controller.health.c.lastReason ?? '', /digest/);
    await mirrors[2].setMode('ok');
    await until(exactly(IPS), 'took the fixed mirror back', 5000);
  });

  it('all mirrors down keeps the last good set (fail open), never an empty answer', async () => {
    await mirrors[1].setMode('status-503');
    await until(exactly([IPS[0], IPS[2]]), 'dropped b', 5000);
    const t0 = Date.now();
    await mirrors[0].setMode('status-503');
    await mirrors[2].setMode('status-503');
    // every server answers something at every moment until fail open is decided, and after it
    const answersSomething = async () => {
      for (const s of servers) {
        const v = await answer(s.address);
        assert.ok(v.length > 0 && !v.some((x) => x.startsWith('error')), `${s.label} answers ${v}`);
      }
    };
    while (!(await store.audit(t0)).some((e) => e.kind === 'fail-open')) {
      assert.ok(Date.now() - t0 < 10_000, 'fail-open not audited within 10 s of every mirror failing');
      await answersSomething();
    }
    for (const n of NAMES) assert.equal(controller.health[n].state, 'down', `${n} down`);
    await answersSomething();
    for (const m of mirrors) await m.setMode('ok');
    await until(exactly(IPS), 'recovered', 5000);
  });

  it('a drain moves traffic away and lapses when it expires', async () => {
    await updateState(store, (s) => { s.overrides.push({ id: 'd1', kind: 'drain', mirror: 'b', reason: 'maintenance', author: 'test', createdAt: Date.now(), expiresAt: Date.now() + 2500 }); });
    await until(without(IPS[1]), 'honoured the drain', 3000);
    await until(exactly(IPS), 'restored b after the drain expired', 6000);
    assert.ok((await store.audit()).some((e) => e.kind === 'override-expired'));
  });

  it('a forced failover sends all traffic to one mirror', async () => {
    await updateState(store, (s) => { s.overrides.push({ id: 'f1', kind: 'failover', mirror: 'c', reason: 'incident', author: 'test', createdAt: Date.now(), expiresAt: Date.now() + 1500 }); });
    await until(exactly([IPS[2]]), 'forced to c', 3000);
    await until(exactly(IPS), 'back to all', 6000);
  });

  it('one DNS provider down does not stop the others, and it is caught up when it returns', async () => {
    process.kill(pdns.pid, 'SIGSTOP');
    try {
      mirrors[0].kill('SIGKILL');
      const others = servers.filter((s) => s.label !== 'pdns');
      const saved = servers;
      servers = others;
      try {
        await until(without(IPS[0]), 'dropped a while PowerDNS was down', 5000);
      } finally {
        servers = saved;
      }
      // hold the outage until the controller has given up on this pass and reported it
      const t0 = Date.now();
      while (!(await store.audit()).some((e) => e.kind === 'apply-error' && e.message.includes('pdns')) && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 100));
      assert.match((await answer(pdns.dnsAddress)).join(' '), /timeout/, 'PowerDNS was really down');
    } finally {
      process.kill(pdns.pid, 'SIGCONT');
    }
    await until(without(IPS[0]), 'caught PowerDNS up', 30_000);
    assert.ok((await store.audit()).some((e) => e.kind === 'apply-error' && e.message.includes('pdns')), 'the outage is reported');
    await startMirrorAt(0, ports[0]);
    await until(exactly(IPS), 'recovered', 10_000);
  });

  it('cut off from its canaries, the controller changes nothing (fail static)', async () => {
    spec.canaries = [{ target: '127.0.0.1:1' }];
    await controller.reload(spec);
    for (const t0 = Date.now(); !controller.cutOff; await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() - t0 < 5000, 'the controller never saw its canary fail');
    }
    mirrors[2].kill('SIGKILL');
    // more failed probes of c than fall (3): a controller that was not cut off would have removed it by now
    for (let i = 0; i < 6; i++) await nextProbeOf('c');
    for (const s of servers) assert.deepEqual(await answer(s.address), [...IPS].sort(), `${s.label} changed while cut off`);
    assert.ok((await store.audit()).some((e) => e.kind === 'fail-static'));
    spec.canaries = [{ target: embedded.address }];
    await controller.reload(spec);
    await until(without(IPS[2]), 'acted once the canaries answered', 5000);
    await startMirrorAt(2, ports[2]);
    await until(exactly(IPS), 'recovered', 10_000);
  });

  // Short and condition-based: it runs until the mirror has really dropped 5 requests (about 50 probes, ~13 s at
  // 250 ms), not for a fixed minute; the long soak with loss figures is bench/flaky.
  it('a mirror dropping 1 request in 10 is never removed (fall 3)', async () => {
    await mirrors[1].setMode('drop-every-10th');
    const deadline = Date.now() + 60_000;
    let samples = 0;
    while ((await mirrors[1].counters()).dropped < 5) {
      assert.ok(Date.now() < deadline, `the mirror dropped only ${(await mirrors[1].counters()).dropped} requests in 60 s`);
      for (const s of servers) assert.deepEqual(await answer(s.address), [...IPS].sort(), `${s.label} removed the flaky mirror`);
      samples++;
      await nextProbeOf('b');
    }
    assert.ok(samples >= 20, `${samples} samples`);
    assert.equal(controller.health.b.state, 'up');
    await mirrors[1].setMode('ok');
  });

  it('every decision, apply and verification is in the audit log', async () => {
    const kinds = new Set((await store.audit()).map((e) => e.kind));
    for (const k of ['daemon', 'decision', 'apply', 'verify', 'flip']) assert.ok(kinds.has(k), `no ${k} event`);
  });
});
