/**
 * One vantage cut off from one mirror: three vantages probe three real mirrors with real HTTP probes, each from its
 * own source address (127.0.2.1-3, what `flotilla daemon --probe-from` sets); the path from 127.0.2.3 to m2 is cut
 * by a real packet filter (an iptables DROP in OUTPUT, removed by its exact spec when the test ends). Each vantage's
 * observe loop (rise/fall) reaches its own verdict; decide() over the three keeps m2 in the answer. The same cut
 * through three daemons, etcd and BIND is in test/e2e/cluster.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decide, type VantageView } from '../../src/controller/decide.ts';
import { Observer } from '../../src/controller/observe.ts';
import { digestSite } from '../../src/config/site-digest.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { DnsProbe } from '../../src/probes/dns-probe.ts';
import { HttpProbe } from '../../src/probes/http-probe.ts';
import { TcpProbe } from '../../src/probes/tcp-probe.ts';
import { dropPath, iptablesUnavailable, type DropRule } from '../support/iptables-drop.ts';
import { startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { REPO } from '../support/run-cli.ts';

const IPS = ['127.0.0.81', '127.0.0.82', '127.0.0.83'];
const FROM = ['127.0.2.1', '127.0.2.2', '127.0.2.3'];
const CUT = FROM[2];

const unavailable = iptablesUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(unavailable);
if (unavailable) console.log(`# skipped: ${unavailable}`);

describe('one vantage cut off from one mirror (real probes from per-vantage source addresses, an iptables DROP)', { timeout: 60_000, skip: unavailable }, () => {
  const contentDir = join(REPO, 'site');
  const mirrors: MirrorServer[] = [];
  let rule: DropRule | undefined;
  const observers: Observer[] = [];
  const abort = new AbortController();
  let spec: FleetSpec;

  before(async () => {
    for (const host of IPS) mirrors.push(await startMirror({ host, port: 0, contentDir }));
    // CUT's SYNs to m2 go nowhere: no answer, no reset, as on a broken path
    rule = dropPath({ from: CUT, to: IPS[1], port: mirrors[1].port });
    const site = await digestSite(contentDir);
    spec = {
      stack: 'cut',
      site: { name: 'sample', contentDir, digest: site.digest, files: site.files },
      domain: 'cut.test',
      alternateDomains: [],
      mirrors: IPS.map((ip, i) => ({ name: `m${i + 1}`, provider: 'local', ipv4: ip, settings: {}, health: { port: mirrors[i].port } })),
      dnsProviders: [],
      registrars: [],
      health: { intervalMs: 100, timeoutMs: 150, rise: 2, fall: 3, path: '/', scheme: 'http', expectStatus: [200], checkDigest: true, tlsMinDays: 7, jitter: 0.1 },
      canaries: [],
      policy: { ttl: 5, minHealthy: 1, maxRemoveShare: 0.5, ownerId: 'cut' },
      state: { kind: 'file', path: '/nonexistent', endpoints: [] },
      server: { listen: '127.0.0.1', port: 0, tokenEnv: 'X' },
    };
    for (const from of FROM) {
      const probes = { http: new HttpProbe({ localAddress: from }), tcp: new TcpProbe({ localAddress: from }), dns: new DnsProbe() };
      const o = new Observer(spec, { probes, now: Date.now, blind: () => false, signal: abort.signal });
      observers.push(o);
      o.start();
    }
  });

  after(async () => {
    rule?.remove();
    for (const o of observers) o.stop();
    abort.abort();
    await Promise.all(mirrors.map((m) => m.stop()));
  });

  const views = (): VantageView[] => observers.map((o, i) => ({ name: `v${i + 1}`, live: true, health: o.health }));
  async function settled(): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const [a, b, c] = observers.map((o) => o.health);
      if (a.m2?.state === 'up' && b.m2?.state === 'up' && c.m2?.state === 'down' && ['m1', 'm3'].every((m) => observers.every((o) => o.health[m]?.state === 'up'))) return;
      if (Date.now() - t0 > 20_000) assert.fail(`verdicts never settled: ${JSON.stringify(observers.map((o) => Object.fromEntries(Object.entries(o.health).map(([k, v]) => [k, `${v.state} ${v.lastReason}`]))))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('the cut vantage alone calls m2 down; the quorum keeps m2 in', async () => {
    await settled();
    assert.ok(rule?.present(), 'the DROP rule is in place');
    assert.match(observers[2].health.m2.lastReason ?? '', /timeout|timed out|no answer|within/i);
    const d = decide({ spec, vantages: views(), overrides: [], now: Date.now() });
    assert.deepEqual(d.desired.serving, ['m1', 'm2', 'm3']);
    assert.equal(d.failStatic, undefined);
  });

  it('a quorum of one vote would have taken m2 out (what the quorum protects against)', () => {
    const d = decide({ spec: { ...spec, health: { ...spec.health, quorum: 0.3 } }, vantages: views(), overrides: [], now: Date.now() });
    assert.deepEqual(d.desired.serving, ['m1', 'm3']);
  });

  it('the cut vantage alone (the others stale), with minVantages 2: fail static, m2 never taken out', () => {
    const v = views().map((x) => ({ ...x, live: x.name === 'v3' }));
    const d = decide({ spec: { ...spec, health: { ...spec.health, minVantages: 2 } }, vantages: v, overrides: [], now: Date.now() });
    assert.match(d.failStatic ?? '', /only 1 live vantage/);
  });
});
