import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadStack } from '../../src/config/load-stack.ts';
import type { FleetSpec, MirrorSpec } from '../../src/domain/fleet-spec.ts';
import { HttpProbe } from '../../src/probes/http-probe.ts';
import { probeTargetFor } from '../../src/probes/probe-target.ts';
import { startMirror } from '../support/mirror-server.ts';
import { never } from './helpers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function spec(over: Partial<FleetSpec['health']> = {}): FleetSpec {
  return {
    stack: 't',
    site: { name: 's', contentDir: 'site', digest: 'd', files: { '/': 'aa'.repeat(32), '/index.html': 'aa'.repeat(32), '/health.txt': 'bb'.repeat(32) } },
    domain: 'example.com',
    alternateDomains: [],
    mirrors: [],
    dnsProviders: [],
    registrars: [],
    health: { intervalMs: 1000, timeoutMs: 200, rise: 2, fall: 3, path: '/', scheme: 'http', expectStatus: [200], checkDigest: true, tlsMinDays: 7, jitter: 0.1, ...over },
    canaries: [],
    policy: { ttl: 60, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'o' },
    state: { kind: 'file', path: '.', endpoints: [] },
    server: { listen: '127.0.0.1', port: 0, tokenEnv: 'T' },
  };
}
const mirror = (m: Partial<MirrorSpec> = {}): MirrorSpec => ({ name: 'a', provider: 'local', ipv4: '192.0.2.1', settings: {}, ...m });

describe('probeTargetFor', () => {
  it('takes the fleet defaults: address, port 80, Host = domain, digest of the path', () => {
    assert.deepEqual(probeTargetFor(spec(), mirror()), {
      mirror: 'a',
      address: '192.0.2.1',
      port: 80,
      scheme: 'http',
      host: 'example.com',
      path: '/',
      timeoutMs: 200,
      expectStatus: [200],
      tlsMinDays: 7,
      expectedDigest: 'aa'.repeat(32),
    });
  });

  it('a dns probe without a port asks port 53, also when only the mirror chooses dns; an explicit port wins', () => {
    assert.equal(probeTargetFor(spec({ probe: 'dns' }), mirror()).port, 53);
    assert.equal(probeTargetFor(spec(), mirror({ health: { probe: 'dns' } })).port, 53);
    assert.equal(probeTargetFor(spec({ probe: 'dns', port: 5353 }), mirror()).port, 5353);
    assert.equal(probeTargetFor(spec({ probe: 'tcp' }), mirror()).port, 80);
  });

  it('applies the mirror overrides, https port 443 and the digest of the overridden path', () => {
    const t = probeTargetFor(
      spec({ scheme: 'https', bodyMatch: '/ok/', latencyBudgetMs: 150 }),
      mirror({ ipv4: undefined, ipv6: '2001:db8::1', health: { path: '/health.txt?deep=1', host: 'origin.example.com', timeoutMs: 100 } }),
    );
    assert.equal(t.address, '2001:db8::1');
    assert.equal(t.port, 443);
    assert.equal(t.host, 'origin.example.com');
    assert.equal(t.path, '/health.txt?deep=1');
    assert.equal(t.expectedDigest, 'bb'.repeat(32));
    assert.equal(t.bodyMatch, '/ok/');
    assert.equal(t.latencyBudgetMs, 150);
    assert.equal(t.timeoutMs, 100);
  });

  it('prefers ipv4, honours an explicit port, and has no digest when checkDigest is off or the path is no file', () => {
    assert.equal(probeTargetFor(spec(), mirror({ ipv6: '2001:db8::1' })).address, '192.0.2.1');
    assert.equal(probeTargetFor(spec({ scheme: 'https', port: 8443 }), mirror()).port, 8443);
    assert.equal(probeTargetFor(spec({ checkDigest: false }), mirror()).expectedDigest, undefined);
    assert.equal(probeTargetFor(spec({ path: '/healthz' }), mirror()).expectedDigest, undefined);
  });

  it('leaves the address empty when none is known, unless one is given', () => {
    const cloud = mirror({ provider: 'aws', ipv4: undefined });
    assert.equal(probeTargetFor(spec(), cloud).address, '');
    assert.equal(probeTargetFor(spec(), cloud, { address: '198.51.100.7' }).address, '198.51.100.7');
  });

  it('builds targets from the local stack that a mirror serving the sample site passes', async () => {
    const local = await loadStack({ stack: 'local', cwd: ROOT });
    const m = local.mirrors[0];
    const target = probeTargetFor(local, m);
    assert.equal(target.host, local.domain);
    assert.equal(target.expectedDigest, local.site.files['/']);
    const server = await startMirror({ host: target.address, port: 0, contentDir: resolve(local.projectDir, local.site.contentDir) });
    const probe = new HttpProbe();
    try {
      const r = await probe.run({ ...target, port: server.port, timeoutMs: 2000 }, never);
      assert.equal(r.reason, 'ok');
      assert.equal(r.digest, local.site.files['/']);
      server.setMode('wrong-bytes');
      assert.match((await probe.run({ ...target, port: server.port, timeoutMs: 2000 }, never)).reason, /content digest mismatch/);
    } finally {
      await probe.close();
      await server.stop();
    }
  });
});
