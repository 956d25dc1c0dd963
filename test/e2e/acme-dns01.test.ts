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
import { queryDns } from '../../src/probes/dns-client.ts';
import { FileSecretStore } from '../../src/state/secret-store.ts';
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
});
