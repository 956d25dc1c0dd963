/** A small in-memory FleetSpec for pure tests. */
import type { FleetSpec, MirrorSpec } from '../../src/domain/fleet-spec.ts';

export function fleetFixture(over: Partial<FleetSpec> = {}, mirrorCount = 3): FleetSpec {
  const mirrors: MirrorSpec[] = Array.from({ length: mirrorCount }, (_, i) => ({
    name: `m${i}`,
    provider: 'local',
    ipv4: `127.0.0.${11 + i}`,
    settings: {},
  }));
  return {
    stack: 'test',
    site: { name: 't', contentDir: '/nonexistent', digest: 'd', files: { '/': 'd' } },
    domain: 'example.test',
    alternateDomains: ['www.example.test'],
    mirrors,
    dnsProviders: [{ name: 'embedded', kind: 'local', settings: {} }],
    registrars: [],
    health: { intervalMs: 250, timeoutMs: 200, rise: 2, fall: 3, path: '/', scheme: 'http', expectStatus: [200], checkDigest: true, tlsMinDays: 7, jitter: 0.1 },
    canaries: [],
    policy: { ttl: 60, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'test' },
    state: { kind: 'file', path: '/tmp/none', endpoints: [] },
    server: { listen: '127.0.0.1', port: 0, tokenEnv: 'T' },
    ...over,
  };
}
