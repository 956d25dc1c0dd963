/**
 * The program honours the controller's state: a mirror that is down is not published, and when every mirror looks
 * down the last good set is (fail open). Runs mockPreview several times in this one process: calls are queued and each
 * resets the mocks.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadStack } from '../../src/config/load-stack.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import type { MirrorHealth } from '../../src/domain/health.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { mockPreview, mockResource, type MockPreviewResult } from '../../src/infra/mock-preview.ts';
import { openStore } from '../../src/state/open-store.ts';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const down: MirrorHealth = { state: 'down', successStreak: 0, failureStreak: 3, recentFlips: [], lastReason: 'connect ECONNREFUSED' };
const AWS_IP = String(mockResource('aws:ec2/instance:Instance', 'aws-fra-host', {}).state.publicIp);
const HZ_IP = String(mockResource('hcloud:index/server:Server', 'hetzner-nbg-host', {}).state.ipv4Address);
const BOX_IP = '203.0.113.10';

let dir: string;
let spec: FleetSpec;

before(async () => {
  process.env.FLOTILLA_SSH_KEY = 'fake-key-for-state-test';
  dir = await mkdtemp(join(tmpdir(), 'flotilla-preview-state-'));
  spec = await loadStack({ stack: 'example', cwd: ROOT });
  spec.state.path = dir;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every address published anywhere, per provider (records only, markers aside). */
function published(r: MockPreviewResult): Record<string, string[]> {
  const cf = r.resources.filter((x) => x.type === 'cloudflare:index/dnsRecord:DnsRecord' && x.inputs.type === 'A' && x.inputs.name === 'example.org');
  const r53 = r.resources.find((x) => x.type === 'aws:route53/record:Record' && x.inputs.type === 'A' && x.inputs.name === 'example.org');
  const hz = r.resources.find((x) => x.type === 'hcloud:index/zoneRrset:ZoneRrset' && x.inputs.type === 'A' && x.inputs.name === '@');
  return {
    cloudflare: cf.map((x) => String(x.inputs.content)).sort(),
    route53: ((r53?.inputs.records as string[]) ?? []).slice().sort(),
    hetzner: ((hz?.inputs.records as { value: string }[]) ?? []).map((v) => v.value).sort(),
  };
}

async function withState(state: object): Promise<MockPreviewResult> {
  await writeFile(join(dir, 'state.json'), JSON.stringify({ version: 7, updatedAt: 0, providers: {}, ...state }));
  return mockPreview({ spec });
}

describe('mock preview with controller state', () => {
  it('a mirror marked down in the state file is absent from the records at every provider', async () => {
    const r = await withState({ health: { 'aws-fra': down }, overrides: [], lastGood: ['aws-fra', 'hetzner-nbg', 'box-ams'] });
    for (const [p, ips] of Object.entries(published(r))) assert.deepEqual(ips, [HZ_IP, BOX_IP].sort(), p);
    assert.ok(!JSON.stringify(r.resources.filter((x) => /dnsRecord|route53\/record|zoneRrset/.test(x.type))).includes(AWS_IP));
    assert.ok(!r.resources.some((x) => x.type === 'cloudflare:index/dnsRecord:DnsRecord' && x.name.includes('aws-fra')));
    // the host itself stays: it is out of DNS, not destroyed
    assert.ok(r.resources.some((x) => x.type === 'aws:ec2/instance:Instance' && x.name === 'aws-fra-host'));
    assert.deepEqual(r.outputs.serving, ['hetzner-nbg', 'box-ams']);
    assert.ok(r.log.some((l) => l.message === 'aws-fra is down'), JSON.stringify(r.log));
  });

  it('a DNS provider the delegation guard pruned stays out of the Route 53 Domains delegation (pulumi up never re-adds it)', async () => {
    const listed = (r: MockPreviewResult) => ((r.resources.find((x) => x.type === 'aws:route53domains/registeredDomain:RegisteredDomain')?.inputs.nameServers as { name: string }[]) ?? []).map((n) => n.name);
    const all = await withState({ health: {}, overrides: [], lastGood: [] });
    const hetznerNs = (all.outputs.nameservers as Record<string, string[]>).hetzner;
    assert.ok(hetznerNs.length > 0, JSON.stringify(listed(all)));
    const r = await withState({ health: {}, overrides: [], lastGood: [], delegation: { pruned: { 'example.org': ['hetzner'] }, lost: {} } });
    const per = all.outputs.nameservers as Record<string, string[]>;
    assert.deepEqual(listed(r), [...per.cloudflare, ...per.route53].sort(), 'cloudflare and route53: 6 names, within the limit');
    assert.ok(!listed(r).some((n) => hetznerNs.includes(n)));
    assert.ok(r.log.some((l) => l.level === 'warn' && /hetzner left out of the delegation of example\.org: the delegation guard pruned it/.test(l.message)), JSON.stringify(r.log));
    // every provider pruned cannot be right (the guard keeps one): the full list stays
    const every = await withState({ health: {}, overrides: [], lastGood: [], delegation: { pruned: { 'example.org': ['hetzner', 'route53', 'cloudflare'] }, lost: {} } });
    assert.deepEqual(listed(every), listed(all));
  });

  it('a drain override takes a mirror out; an expired one does not', async () => {
    const now = Date.now();
    const drain = (mirror: string, expiresAt: number) => ({ id: `d-${mirror}`, kind: 'drain', mirror, reason: 'maintenance', author: 'ops', createdAt: now - 1000, expiresAt });
    const r = await withState({ health: {}, overrides: [drain('box-ams', now + 3_600_000), drain('hetzner-nbg', now - 1)], lastGood: [] });
    for (const [p, ips] of Object.entries(published(r))) assert.deepEqual(ips, [AWS_IP, HZ_IP].sort(), p);
  });

  it('every mirror down: the last good set is published (fail open), never an empty answer', async () => {
    const r = await withState({ health: { 'aws-fra': down, 'hetzner-nbg': down, 'box-ams': down }, overrides: [], lastGood: ['box-ams'] });
    for (const [p, ips] of Object.entries(published(r))) assert.deepEqual(ips, [BOX_IP], p);
    assert.equal(r.outputs.failOpen, true);
    assert.ok(r.log.some((l) => l.level === 'warn' && /failing open/.test(l.message)));
  });
});

describe('mock preview of the local stack', () => {
  it('leaves powerdns, rfc2136 and local zones to the controller, with a log line for each', async () => {
    const r = await mockPreview({ stack: 'local', cwd: ROOT, state: { health: {}, overrides: [], lastGood: [] } });
    assert.deepEqual(r.resources, [], 'nothing for Pulumi to create: local mirrors, controller-written DNS');
    for (const p of ['embedded (local)', 'bind (rfc2136)', 'pdns (powerdns)']) {
      assert.ok(r.log.some((l) => l.message.startsWith(`dns provider ${p} is written by the controller`)), p);
    }
    assert.deepEqual(r.outputs.nameservers, {});
  });
});

describe('mock preview of a broken spec', () => {
  it('rejects with the ConfigError (nothing half-registered), and the next call still works', async () => {
    const broken: FleetSpec = {
      ...spec,
      dnsProviders: spec.dnsProviders.map((p) => (p.kind === 'cloudflare' ? { ...p, settings: { tokenEnv: 'CLOUDFLARE_API_TOKEN' } } : p)),
    };
    await assert.rejects(mockPreview({ spec: broken }), (e: unknown) => e instanceof ConfigError && /accountId/.test(e.message));
    const ok = await mockPreview({ spec, state: { health: {}, overrides: [], lastGood: [] } });
    assert.ok(ok.resources.some((r) => r.type === 'aws:ec2/instance:Instance'));
  });

  it('runs without credentials, and says which variable a real run would miss', async () => {
    const r = await mockPreview({ spec, env: {}, state: { health: {}, overrides: [], lastGood: [] } });
    assert.ok(r.resources.some((x) => x.type === 'command:remote:Command'));
    assert.ok(r.log.some((l) => l.level === 'warn' && /FLOTILLA_SSH_KEY is not set/.test(l.message)), JSON.stringify(r.log));
  });
});

describe('mock preview with policy.ttl below a provider floor', () => {
  it('writes each provider its floor (as the controller does), warns once per provider, and names the state it read', async () => {
    await writeFile(join(dir, 'state.json'), JSON.stringify({ version: 1, updatedAt: 0, providers: {}, health: {}, overrides: [], lastGood: [] }));
    const r = await mockPreview({ spec: { ...spec, policy: { ...spec.policy, ttl: 30 } } });
    const ttls = (type: string) => [...new Set(r.resources.filter((x) => x.type === type).map((x) => x.inputs.ttl))];
    assert.deepEqual(ttls('cloudflare:index/dnsRecord:DnsRecord'), [60]);
    assert.deepEqual(ttls('hcloud:index/zoneRrset:ZoneRrset'), [60]);
    assert.deepEqual(ttls('aws:route53/record:Record'), [30]);
    const warns = r.log.filter((l) => l.level === 'warn' && /raised/.test(l.message)).map((l) => l.message);
    assert.deepEqual(warns, ["cloudflare: ttl 30 raised to 60, the provider's floor", "hetzner: ttl 30 raised to 60, the provider's floor"]);
    assert.ok(r.log.some((l) => l.message === `health, overrides and the last good answer read from the controller's state in the state directory ${dir}`), JSON.stringify(r.log));
  });
});

describe('mock preview with state in etcd (real etcd)', () => {
  let etcd: EtcdHandle | undefined;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  it('reads health from etcd (a mirror down there is unpublished) and its log says it read etcd', async () => {
    const etcdSpec: FleetSpec = { ...spec, stack: 'preview-etcd', state: { kind: 'etcd', path: dir, endpoints: [etcd!.endpoint] } };
    const store = openStore(etcdSpec);
    const st = await store.load();
    assert.equal(await store.save({ ...st, health: { 'aws-fra': down }, lastGood: ['aws-fra', 'hetzner-nbg', 'box-ams'] }, st.version), true);
    const r = await mockPreview({ spec: etcdSpec });
    for (const [p, ips] of Object.entries(published(r))) assert.deepEqual(ips, [HZ_IP, BOX_IP].sort(), p);
    const line = `health, overrides and the last good answer read from the controller's state in etcd (${etcd!.endpoint}, prefix /flotilla/preview-etcd/)`;
    assert.ok(r.log.some((l) => l.level === 'info' && l.message === line), JSON.stringify(r.log));
    assert.ok(!r.log.some((l) => /does not read etcd/.test(l.message)));
  });
});
