/** The local driver against the real embedded DNS server: the shared conformance suite, queried with dig. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { createLocalDriver, ensureLocalZone } from '../../src/drivers/local/local-driver.ts';
import { openZoneStore, ZoneStore } from '../../src/drivers/local/zone-store.ts';
import { digValues } from '../support/dig.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { conformanceSuite } from './conformance.ts';

const zone = 'conformance.test';
let dir = '';
let server: EmbeddedDnsServer | undefined;
let foreignWriter: ZoneStore | undefined;

const makeDriver = (): DnsDriver =>
  createLocalDriver({ name: 'local-test', settings: { listen: '127.0.0.1', port: server!.port }, env: {}, zoneDir: dir });

conformanceSuite({
  label: 'local (embedded DNS server)',
  kind: 'local',
  zone,
  missingZone: 'absent.test',
  async setup() {
    ensurePackages({ dig: 'dnsutils' });
    dir = mkdtempSync(join(tmpdir(), 'flotilla-local-'));
    await ensureLocalZone(dir, zone);
    server = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: openZoneStore(dir) });
    // A second store on the same directory plays "someone else" (another process writing the zone files).
    foreignWriter = new ZoneStore(dir);
  },
  async teardown() {
    await server?.close();
    foreignWriter?.close();
    openZoneStore(dir).close();
    rmSync(dir, { recursive: true, force: true });
  },
  driver: makeDriver,
  async seedForeign(r) {
    await foreignWriter!.apply(zone, [{ action: 'create', after: r }]);
  },
  query: (name, type) => digValues(server!.address, name, type),
});

describe('local driver specifics', () => {
  let d: string;
  before(() => {
    d = mkdtempSync(join(tmpdir(), 'flotilla-local-'));
  });
  after(() => {
    openZoneStore(d).close();
    rmSync(d, { recursive: true, force: true });
  });

  it('nameservers default to the embedded server address, settings override', async () => {
    const a = createLocalDriver({ name: 'l', settings: { listen: '127.0.0.1', port: 5399 }, env: {}, zoneDir: d });
    assert.deepEqual(await a.nameservers('x.test'), ['127.0.0.1:5399']);
    const b = createLocalDriver({ name: 'l', settings: { listen: '127.0.0.1', port: 5399, nameservers: ['127.0.0.2:53'] }, env: {}, zoneDir: d });
    assert.deepEqual(await b.nameservers('x.test'), ['127.0.0.2:53']);
  });

  it('a change set is all or nothing, and an invalid one is a typed, non-retryable error', async () => {
    await ensureLocalZone(d, 'atomic.test');
    const drv = createLocalDriver({ name: 'l', settings: { listen: '127.0.0.1', port: 0 }, env: {}, zoneDir: d });
    const before = await drv.listRecords('atomic.test');
    await assert.rejects(
      drv.applyChanges('atomic.test', [
        { action: 'create', after: { name: 'ok.atomic.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } },
        { action: 'create', after: { name: 'bad.atomic.test', type: 'A', ttl: 60, values: ['not-an-ip'] } },
      ]),
      (e: unknown) => e instanceof DriverError && e.code === 'DRIVER_FAILED' && !e.retryable && e.message.includes('atomic.test'),
    );
    assert.deepEqual(await drv.listRecords('atomic.test'), before);
    await assert.rejects(
      drv.applyChanges('atomic.test', [{ action: 'create', after: { name: 'x.other.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } }]),
      (e: unknown) => e instanceof DriverError && e.code === 'DRIVER_FAILED',
    );
  });

  it('splits more than maxBatch changes into several atomic writes', async () => {
    await ensureLocalZone(d, 'split.test');
    const drv = createLocalDriver({ name: 'l', settings: { listen: '127.0.0.1', port: 0 }, env: {}, zoneDir: d });
    const n = drv.capabilities.maxBatch + 5;
    const changes = Array.from({ length: n }, (_, i) => ({
      action: 'create' as const,
      after: { name: `h${i}.split.test`, type: 'A' as const, ttl: 60, values: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`] },
    }));
    const report = await drv.applyChanges('split.test', changes);
    assert.equal(report.requests, 2);
    assert.equal(report.applied, n);
    assert.equal((await drv.listRecords('split.test')).filter((r) => r.type === 'A').length, n);
  });
});
