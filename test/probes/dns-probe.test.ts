import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { DnsProbe } from '../../src/probes/dns-probe.ts';
import type { ProbeTarget } from '../../src/probes/probe-target.ts';

/** The DNS probe against a real DNS server (the embedded one) — and against silence. */
describe('DnsProbe', () => {
  let server: EmbeddedDnsServer;
  const base = (port: number, host: string): ProbeTarget => ({ mirror: 'ns', address: '127.0.0.1', port, scheme: 'http', host, path: '/', timeoutMs: 300, expectStatus: [200], tlsMinDays: 0 });
  before(async () => {
    const store = openZoneStore(join(mkdtempSync(join(tmpdir(), 'flotilla-dnsprobe-')), 'zones'));
    await store.ensureZone('probe.test');
    await store.apply('probe.test', [{ action: 'create', after: { name: 'probe.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } }]);
    server = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store });
  });
  after(() => server?.close());

  it('is ok when the server answers the name', async () => {
    const r = await new DnsProbe().run(base(server.port, 'probe.test'), AbortSignal.timeout(2000));
    assert.equal(r.ok, true, r.reason);
  });

  it('fails with a reason for NXDOMAIN, REFUSED and a silent port', async () => {
    const nx = await new DnsProbe().run(base(server.port, 'nope.probe.test'), AbortSignal.timeout(2000));
    assert.equal(nx.ok, false);
    assert.match(nx.reason, /NXDOMAIN/);
    const refused = await new DnsProbe().run(base(server.port, 'other.test'), AbortSignal.timeout(2000));
    assert.match(refused.reason, /REFUSED/);
    const t0 = performance.now();
    const silent = await new DnsProbe().run(base(9, 'probe.test'), AbortSignal.timeout(2000));
    assert.equal(silent.ok, false);
    assert.ok(performance.now() - t0 < 1000);
  });
});
