/**
 * Two `flotilla daemon` processes on one etcd with `certs:`: only the leader orders the certificate (pebble asks
 * BIND, the one DNS provider), the follower says `certs: follower: the leader renews`; when the leader stops, the
 * follower is elected and its certificate loop takes over at once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EtcdStateStore } from '../../src/state/etcd-state-store.ts';
import { startBind, type DnsServerHandle } from '../support/bind-server.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';
import { startPebble, type PebbleServer } from '../support/pebble-server.ts';
import { BIN, REPO } from '../support/run-cli.ts';

const ZONE = 'certs-leader.test';
const VANTAGES = ['v1', 'v2'];

describe('flotilla daemon on etcd: only the leader does the certificate work', { timeout: 180_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-daemon-certs-etcd-'));
  let etcd: EtcdHandle;
  let bind: DnsServerHandle;
  let pebble: PebbleServer;
  const daemons = new Map<string, { child: ChildProcess; out: () => string }>();

  before(async () => {
    [etcd, bind] = await Promise.all([startEtcd(), startBind({ zones: [ZONE] })]);
    pebble = await startPebble({ dnsServer: bind.address });
    writeFileSync(join(root, 'pebble-ca.pem'), pebble.listenerCa);
    for (const v of VANTAGES) {
      const dir = join(root, v);
      mkdirSync(join(dir, 'stacks'), { recursive: true });
      writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
      writeFileSync(join(dir, 'stacks', 'Pulumi.lead.yaml'), `config:
  flotilla:fleet:
    site: { name: lead, contentDir: ${join(REPO, 'site')} }
    domain: ${ZONE}
    alternateDomains: []
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.91 }
    dnsProviders:
      - { name: bind, kind: rfc2136, settings: { server: "${bind.address}", tsigKeyName: ${bind.keyName}, tsigSecretEnv: LEAD_TSIG } }
    health: { interval: 1s, timeout: 200ms }
    policy: { ttl: 5, ownerId: lead }
    state: { kind: etcd, endpoints: [${etcd.endpoint}], lease: 2s }
    certs: { directory: '${pebble.directoryUrl}', verifyTimeout: 10s, checkInterval: 1h }
`);
    }
    for (const v of VANTAGES) {
      const child = spawnTracked(process.execPath, [BIN, 'daemon', '--stack', 'lead', '--vantage', v, '--no-http'], { cwd: join(root, v), env: { ...process.env, LEAD_TSIG: bind.secret, NODE_EXTRA_CA_CERTS: join(root, 'pebble-ca.pem') }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      daemons.set(v, { child, out: () => out });
    }
  });
  after(async () => {
    await Promise.all([...daemons.values()].map((d) => stopChild(d.child, { graceMs: 2000 })));
    await pebble?.stop();
    await bind?.stop();
    await etcd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const logs = () => [...daemons.entries()].map(([v, d]) => `--- ${v}\n${d.out().split('\n').slice(-30).join('\n')}`).join('\n');
  async function waitFor<T>(what: string, fn: () => T | undefined | false, ms = 60_000): Promise<T> {
    const start = Date.now();
    for (;;) {
      const v = fn();
      if (v) return v;
      if (Date.now() - start > ms) assert.fail(`timed out (${ms} ms) waiting for ${what}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('the leader issues, the follower stays idle; the follower takes over when the leader stops', async () => {
    const leader = await waitFor('a certificate issued by one daemon', () => VANTAGES.find((v) => /cert: certificate issued for certs-leader\.test/.test(daemons.get(v)!.out())));
    const follower = VANTAGES.find((v) => v !== leader)!;
    await waitFor('the follower idle', () => /certs: follower: the leader renews/.test(daemons.get(follower)!.out()));
    assert.doesNotMatch(daemons.get(follower)!.out(), /certs: challenge TXT|certs: issued/, 'the follower ordered nothing');
    await stopChild(daemons.get(leader)!.child, { graceMs: 5000 });
    await waitFor('the follower elected, its certificate loop on', () => /certs: leader: checking every 3600s/.test(daemons.get(follower)!.out()));
    const audit = await new EtcdStateStore({ endpoints: [etcd.endpoint], prefix: '/flotilla/lead/' }).audit();
    const issued = audit.filter((e) => e.kind === 'cert' && /certificate issued/.test(e.message));
    assert.equal(issued.length, 1, JSON.stringify(issued));
    assert.equal(issued[0].actor, `vantage ${leader}`);
    assert.ok(!audit.some((e) => e.kind === 'cert-error'), JSON.stringify(audit.filter((e) => e.kind === 'cert-error')));
  });
});
