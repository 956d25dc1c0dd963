/**
 * The inventory against real parts: mirror processes on 127.0.0.81-83, the embedded DNS server as the provider, a
 * file state store that another writer (as `flotilla inventory refresh` would) changes under the running controller.
 * Interval 250 ms, rise 3. Every assertion about what is served is a DNS query at the server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestSite } from '../../src/config/site-digest.ts';
import { Controller } from '../../src/controller/controller.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import type { Inventory } from '../../src/domain/inventory.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { markerRecord } from '../../src/planner/ownership.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import type { ProbeResult } from '../../src/probes/probe-result.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { spawnMirrorProcess, type MirrorProcess } from '../support/mirror-server.ts';
import { REPO } from '../support/run-cli.ts';

const ZONE = 'inventory.test';
const IPS = ['127.0.0.81', '127.0.0.82', '127.0.0.83'];
const RISE = 3;

describe('e2e: the controller follows the mirror inventory live', { timeout: 120_000 }, () => {
  const mirrors: MirrorProcess[] = [];
  let embedded: EmbeddedDnsServer;
  let controller: Controller;
  let store: FileStateStore;
  let drivers: DnsDriver[];
  const audits: AuditEvent[] = [];

  async function answer(): Promise<string[]> {
    const r = await queryDns({ server: embedded.address, name: ZONE, type: 'A', timeoutMs: 300 });
    return r.ok ? r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort() : [`error: ${r.error}`];
  }
  async function until<T>(fn: () => Promise<T> | T, pred: (v: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (pred(v)) return v;
      if (Date.now() - t0 > timeoutMs) assert.fail(`never ${what}; last: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const inventory = (b: string): Inventory => ({ updatedAt: Date.now(), stack: 'e2e', mirrors: { b: { provider: 'aws', ipv4: b, resourceId: `i-${b}`, at: Date.now(), source: 'pulumi' } } });

  before(async () => {
    const contentDir = join(REPO, 'site');
    const first = spawnMirrorProcess({ host: IPS[0], port: 0, contentDir });
    mirrors.push(first);
    const port = (await first.ready).port;
    for (const host of IPS.slice(1)) {
      const m = spawnMirrorProcess({ host, port, contentDir });
      mirrors.push(m);
      await m.ready;
    }
    const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-e2e-inventory-'));
    const zoneStore = openZoneStore(join(stateDir, 'zones'));
    await zoneStore.ensureZone(ZONE);
    embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zoneStore });
    const site = await digestSite(contentDir);
    // a: an SSH box with its address in the stack file; b: a cloud host Pulumi creates (no address in the stack file)
    const spec: FleetSpec = {
      stack: 'e2e',
      site: { name: 'sample', contentDir, digest: site.digest, files: site.files },
      domain: ZONE,
      alternateDomains: [],
      mirrors: [
        { name: 'a', provider: 'ssh', ipv4: IPS[0], settings: {} },
        { name: 'b', provider: 'aws', settings: {} },
      ],
      dnsProviders: [{ name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: embedded.port, zoneDir: join(stateDir, 'zones') } }],
      registrars: [],
      health: { intervalMs: 250, timeoutMs: 200, rise: RISE, fall: 3, path: '/', scheme: 'http', port, expectStatus: [200], checkDigest: true, tlsMinDays: 7, jitter: 0.1 },
      canaries: [],
      // a value change is not a deletion: maxRemoveShare would not stop a cut from two addresses to one
      policy: { ttl: 5, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'e2e' },
      state: { kind: 'file', path: stateDir, endpoints: [] },
      server: { listen: '127.0.0.1', port: 0, tokenEnv: 'X' },
    };
    drivers = await createDrivers(spec.dnsProviders, { env: {}, stateDir });
    // what Pulumi wrote before the controller knew b's address: both hosts, claimed by our marker
    await drivers[0].applyChanges(ZONE, [
      { action: 'create', after: markerRecord(ZONE, 'A', 'e2e', 5) },
      { action: 'create', after: { name: ZONE, type: 'A', ttl: 5, values: [IPS[0], IPS[1]] } },
    ]);
    assert.deepEqual(await answer(), [IPS[0], IPS[1]]);
    store = new FileStateStore(stateDir);
    controller = new Controller({ spec, store, drivers, query: directQuery, verifyDeadlineMs: 5000, resyncMs: 500, overridePollMs: 100, log: (l) => console.error(`controller: ${l}`) });
    controller.on('audit', (e: AuditEvent) => audits.push(e));
    await controller.start();
  });

  after(async () => {
    await controller?.stop();
    await Promise.all(mirrors.map((m) => m.stop()));
    await embedded?.close();
  });

  it('a mirror with no known address is never probed and never causes the removal of the address it may own', async () => {
    // the controller decided and planned at the provider: the cut from two addresses to one was refused, and said why
    const kept = await until(() => audits.find((e) => e.kind === 'inventory' && (e.data as { provider?: string })?.provider === 'embedded'), (e) => e !== undefined, 'reported the kept address');
    assert.match(kept!.message, /kept 127\.0\.0\.82 at inventory\.test\/A: no known mirror has this address and b is not provisioned/);
    assert.ok(audits.some((e) => e.kind === 'inventory' && /not provisioned .*: b/.test(e.message)));
    // more passes later (each resolves once the provider has planned and applied it), still both
    await controller.requestReconcile('test');
    await controller.requestReconcile('test');
    assert.deepEqual(await answer(), [IPS[0], IPS[1]]);
    assert.equal((await mirrors[1].counters()).requests, 0, 'b is not probed at a guessed address');
    assert.equal((await mirrors[2].counters()).requests, 0);
  });

  it('an inventory written by another process is picked up without a restart; a replacement host is published only after rise probes', async () => {
    await updateState(store, (s) => { s.inventory = inventory(IPS[1]); });
    await until(answer, (v) => v.join(',') === [IPS[0], IPS[1]].join(',') && controller.health.b?.state === 'up', 'served b at its inventory address');
    assert.ok((await mirrors[1].counters()).requests >= RISE, `b probed at ${IPS[1]}`);

    // the host is replaced (Pulumi created a new one at another address): count b's good probes at the new address
    const okProbes: number[] = [];
    const onProbe = (r: ProbeResult) => { if (r.mirror === 'b' && r.ok) okProbes.push(r.at); };
    controller.on('probe', onProbe);
    const t0 = Date.now();
    await updateState(store, (s) => { s.inventory = inventory(IPS[2]); });
    const before: string[][] = [];
    const seen = await until(answer, (v) => { if (!v.includes(IPS[2])) before.push(v); return v.includes(IPS[2]); }, 'published the replacement host');
    // the old host stays in until the new one is proven (a create-before-delete replacement never shrinks the answer)
    for (const v of before) assert.deepEqual(v, [IPS[0], IPS[1]]);
    const goodBefore = okProbes.length;
    controller.off('probe', onProbe);
    console.log(`# inventory change → replacement served: ${Date.now() - t0}ms, after ${goodBefore} good probe(s) at ${IPS[2]} (rise ${RISE})`);
    assert.ok(goodBefore >= RISE, `published after only ${goodBefore} good probe(s) at the new address`);
    assert.deepEqual(seen, [IPS[0], IPS[2]], 'the old address is gone');
    assert.ok(audits.some((e) => e.kind === 'inventory' && /inventory changed: b → 127\.0\.0\.83/.test(e.message)));
  });
});
