/**
 * One owner per record (issue 9 item 2): the program does not read the controller's state and registers no serving
 * record, so `pulumi up` after a failover (a mirror down, a drain, fail open) registers exactly what it registers on a
 * healthy fleet. Also: the local stack, a broken spec, missing credentials, TTL floors. Runs mockPreview several times
 * in this one process: calls are queued and each resets the mocks.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadStack } from '../../src/config/load-stack.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import type { MirrorHealth } from '../../src/domain/health.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { mockPreview, type MockPreviewResult } from '../../src/infra/mock-preview.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const down: MirrorHealth = { state: 'down', successStreak: 0, failureStreak: 3, recentFlips: [], lastReason: 'connect ECONNREFUSED' };
const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let dir: string;
let spec: FleetSpec;

before(async () => {
  process.env.FLOTILLA_SSH_KEY = KEY;
  process.env.FLOTILLA_DEPLOY_KEY = KEY;
  dir = await mkdtemp(join(tmpdir(), 'flotilla-preview-state-'));
  spec = await loadStack({ stack: 'example', cwd: ROOT });
  spec.state.path = dir;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const servingTypes = (r: MockPreviewResult) =>
  r.resources.filter((x) => /dnsRecord|route53\/record|zoneRrset/.test(x.type) && (x.inputs.type === 'A' || x.inputs.type === 'AAAA'));

describe('pulumi up after a failover', () => {
  it('registers the same resources with the same inputs as on a healthy fleet, and no serving record at all', async () => {
    const healthy = await mockPreview({ spec });
    const state = JSON.stringify({
      version: 7,
      updatedAt: 0,
      providers: {},
      health: { 'aws-fra': down, 'hetzner-nbg': down },
      overrides: [{ id: 'o1', kind: 'drain', mirror: 'box-ams', reason: 'maintenance', author: 'ops', createdAt: 0, expiresAt: Date.now() + 3_600_000 }],
      lastGood: ['aws-fra'],
    });
    await writeFile(join(dir, 'state.json'), state);
    const afterFailover = await mockPreview({ spec });
    assert.deepEqual(afterFailover.resources, healthy.resources);
    assert.deepEqual(afterFailover.outputs, healthy.outputs);
    assert.deepEqual(servingTypes(healthy), []);
    assert.equal(await readFile(join(dir, 'state.json'), 'utf8'), state, 'the state is never written');
    assert.ok(healthy.log.some((l) => /serving A\/AAAA record sets are the controller's/.test(l.message)));
  });
});

describe('mock preview of the local stack', () => {
  it('leaves powerdns, rfc2136 and local zones to the controller, with a log line for each', async () => {
    const r = await mockPreview({ stack: 'local', cwd: ROOT });
    assert.deepEqual(r.resources, [], 'nothing for Pulumi to create: local mirrors, controller-written DNS');
    for (const p of ['embedded (local)', 'bind (rfc2136)', 'pdns (powerdns)']) {
      assert.ok(r.log.some((l) => l.message.startsWith(`dns provider ${p} is written by the controller`)), p);
    }
    assert.deepEqual(r.outputs.nameservers, {});
    const mirrors = r.outputs.mirrors as Record<string, { provider: string; ipv4: string; resourceId: string; digest: string }>;
    assert.deepEqual(mirrors['local-a'], { provider: 'local', ipv4: '127.0.0.11', ipv6: undefined, resourceId: 'local:local-a', digest: r.outputs.siteDigest });
  });
});

describe('mock preview of a broken spec', () => {
  it('rejects with the ConfigError (nothing half-registered), and the next call still works', async () => {
    const broken: FleetSpec = {
      ...spec,
      dnsProviders: spec.dnsProviders.map((p) => (p.kind === 'cloudflare' ? { ...p, settings: { tokenEnv: 'CLOUDFLARE_API_TOKEN' } } : p)),
    };
    await assert.rejects(mockPreview({ spec: broken }), (e: unknown) => e instanceof ConfigError && /accountId/.test(e.message));
    const ok = await mockPreview({ spec });
    assert.ok(ok.resources.some((r) => r.type === 'aws:ec2/instance:Instance'));
  });

  it('runs without credentials, and says which variables a real run would miss', async () => {
    const r = await mockPreview({ spec, env: {} });
    assert.ok(r.resources.some((x) => x.type === 'command:remote:Command'));
    for (const v of ['FLOTILLA_SSH_KEY', 'FLOTILLA_DEPLOY_KEY'])
      assert.ok(r.log.some((l) => l.level === 'warn' && l.message.includes(`${v} is not set`)), `${v}: ${JSON.stringify(r.log)}`);
  });

  it('a deploy key that is not a key is a ConfigError naming the variable', async () => {
    await assert.rejects(mockPreview({ spec, env: { FLOTILLA_SSH_KEY: KEY, FLOTILLA_DEPLOY_KEY: 'nope' } }), (e: unknown) => e instanceof ConfigError && /FLOTILLA_DEPLOY_KEY/.test(e.message));
  });
});

describe('mock preview with policy.ttl below a provider floor', () => {
  it('writes each provider its floor for the markers (as the controller does) and warns once per provider', async () => {
    const r = await mockPreview({ spec: { ...spec, policy: { ...spec.policy, ttl: 30 } } });
    const ttls = (type: string) => [...new Set(r.resources.filter((x) => x.type === type && x.inputs.type === 'TXT').map((x) => x.inputs.ttl))];
    assert.deepEqual(ttls('cloudflare:index/dnsRecord:DnsRecord'), [60]);
    assert.deepEqual(ttls('hcloud:index/zoneRrset:ZoneRrset'), [60]);
    assert.deepEqual(ttls('aws:route53/record:Record'), [30]);
    const warns = r.log.filter((l) => l.level === 'warn' && /raised/.test(l.message)).map((l) => l.message);
    assert.deepEqual(warns, ["cloudflare: ttl 30 raised to 60, the provider's floor", "hetzner: ttl 30 raised to 60, the provider's floor"]);
  });
});

describe('pulumi up and the delegation guard', () => {
  async function withState(state: object): Promise<MockPreviewResult> {
    await writeFile(join(dir, 'state.json'), JSON.stringify({ version: 7, updatedAt: 0, providers: {}, health: {}, overrides: [], lastGood: [], ...state }));
    return mockPreview({ spec });
  }

  it('a DNS provider the delegation guard pruned stays out of the Route 53 Domains delegation (pulumi up never re-adds it)', async () => {
    const listed = (r: MockPreviewResult) => ((r.resources.find((x) => x.type === 'aws:route53domains/registeredDomain:RegisteredDomain')?.inputs.nameServers as { name: string }[]) ?? []).map((n) => n.name);
    const all = await withState({});
    const per = all.outputs.nameservers as Record<string, string[]>;
    assert.ok(per.hetzner.length > 0, JSON.stringify(listed(all)));
    const r = await withState({ delegation: { pruned: { 'example.org': ['hetzner'] }, lost: {} } });
    assert.deepEqual(listed(r), [...per.cloudflare, ...per.route53].sort());
    assert.ok(!listed(r).some((n) => per.hetzner.includes(n)));
    assert.ok(r.log.some((l) => l.level === 'warn' && /hetzner left out of the delegation of example\.org: the delegation guard pruned it/.test(l.message)), JSON.stringify(r.log));
    // every provider pruned cannot be right (the guard keeps one): the full list stays
    const every = await withState({ delegation: { pruned: { 'example.org': ['hetzner', 'route53', 'cloudflare'] }, lost: {} } });
    assert.deepEqual(listed(every), listed(all));
  });
});
