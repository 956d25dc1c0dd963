/**
 * Child-process entry, meant to run inside a network namespace (test/support/netns.ts): three real mirror processes
 * on 127.0.0.11-13, the embedded DNS server and the real Controller (HttpProbe, schedule, hysteresis, local driver),
 * all on the namespace's loopback, so iptables rules in the namespace fault the probes' packets for real.
 * `node --import tsx test/support/netns-fleet.ts '<NetnsFleetConfig JSON>'`. Talks to its parent over IPC:
 * sends {type:'ready', ports, dns}, events {type:'probe'|'flip'}, and answers {type:'kill', mirror} with
 * {type:'gone', mirror, killedAt, flipMs, goneMs}: SIGKILL → down flip, and → the first embedded DNS answer without it
 * (killedAt in ms since epoch, as probe `at`).
 * Exits on SIGTERM and when the parent goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestSite } from '../../src/config/site-digest.ts';
import { Controller } from '../../src/controller/controller.ts';
import { directQuery } from '../../src/controller/dns-query.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { startEmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import type { ProbeResult } from '../../src/probes/probe-result.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { spawnMirrorProcess, type MirrorProcess } from './mirror-server.ts';

export interface NetnsFleetConfig {
  contentDir: string;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  jitter: number;
}

export const FLEET_IPS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
export const FLEET_NAMES = ['a', 'b', 'c'];
const ZONE = 'flotilla.test';

const cfg = JSON.parse(process.argv[2] ?? '{}') as NetnsFleetConfig;
const send = (m: object) => { if (process.connected) process.send!(m); };
const epoch = () => performance.timeOrigin + performance.now();

const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-netns-fleet-'));
const mirrors: MirrorProcess[] = [];
let shutdown = async () => {};
const stop = async (code: number) => {
  await shutdown().catch(() => undefined);
  await Promise.all(mirrors.map((m) => m.stop().catch(() => undefined)));
  rmSync(stateDir, { recursive: true, force: true });
  process.exit(code);
};
process.on('SIGTERM', () => void stop(0));
process.on('disconnect', () => void stop(0));

try {
  const ports: number[] = [];
  for (const ip of FLEET_IPS) {
    const m = spawnMirrorProcess({ host: ip, port: 0, contentDir: cfg.contentDir });
    mirrors.push(m);
    ports.push((await m.ready).port);
  }
  const zoneDir = join(stateDir, 'zones');
  const zoneStore = openZoneStore(zoneDir);
  await zoneStore.ensureZone(ZONE);
  const embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store: zoneStore });
  const site = await digestSite(cfg.contentDir);
  const spec: FleetSpec = {
    stack: 'netns-fleet',
    site: { name: 'sample', contentDir: cfg.contentDir, digest: site.digest, files: site.files },
    domain: ZONE,
    alternateDomains: [],
    mirrors: FLEET_NAMES.map((n, i) => ({ name: n, provider: 'local', ipv4: FLEET_IPS[i], weight: 1, settings: {}, health: { port: ports[i] } })),
    dnsProviders: [{ name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: embedded.port, zoneDir } }],
    registrars: [],
    health: { intervalMs: cfg.intervalMs, timeoutMs: cfg.timeoutMs, rise: cfg.rise, fall: cfg.fall, path: '/', scheme: 'http', expectStatus: [200], checkDigest: true, tlsMinDays: 7, jitter: cfg.jitter },
    canaries: [],
    policy: { ttl: 5, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'netns-fleet' },
    state: { kind: 'file', path: stateDir, endpoints: [] },
    server: { listen: '127.0.0.1', port: 0, tokenEnv: 'UNUSED' },
  };
  const drivers = await createDrivers(spec.dnsProviders, { env: {}, stateDir });
  const controller = new Controller({ spec, store: new FileStateStore(stateDir), drivers, query: directQuery, verifyDeadlineMs: 5000 });
  const flipAt = new Map<string, number>();
  controller.on('probe', (r: ProbeResult) => send({ type: 'probe', mirror: r.mirror, ok: r.ok, reason: r.reason, attempts: r.attempts ?? 1, latencyMs: r.latencyMs, at: r.at }));
  controller.on('flip', (f: { mirror: string; state: string }) => {
    if (f.state === 'down') flipAt.set(f.mirror, epoch());
    send({ type: 'flip', mirror: f.mirror, state: f.state, at: epoch() });
  });
  shutdown = async () => {
    await controller.stop();
    await embedded.close();
  };
  process.on('message', async (m: { type: string; mirror: string }) => {
    if (m.type !== 'kill') return;
    const i = FLEET_NAMES.indexOf(m.mirror);
    flipAt.delete(m.mirror);
    const t0 = epoch();
    const killedAt = Date.now();
    mirrors[i].kill('SIGKILL');
    for (;;) {
      const r = await queryDns({ server: embedded.address, name: ZONE, type: 'A', timeoutMs: 300 });
      if (r.ok && r.answers.length > 0 && !r.answers.some((a) => a.value === FLEET_IPS[i])) break;
      if (epoch() - t0 > 10_000) break;
      await new Promise((ok) => setTimeout(ok, 10));
    }
    const goneMs = epoch() - t0;
    const flip = flipAt.get(m.mirror);
    send({ type: 'gone', mirror: m.mirror, killedAt, goneMs, flipMs: flip === undefined ? undefined : flip - t0 });
  });
  await controller.start();
  send({ type: 'ready', ports, dns: embedded.address });
} catch (err) {
  send({ type: 'failed', error: (err as Error).stack ?? String(err) });
  await stop(1);
}
