import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, StateError } from '../../src/domain/errors.ts';
import type { DnsProviderSpec, MirrorSpec } from '../../src/domain/fleet-spec.ts';
import type { RecordSet } from '../../src/domain/records.ts';
import { amiChoice, awsArchitecture, awsInstancePlan, awsSecurityGroupRules, awsSshUser } from '../../src/infra/aws-mirror.ts';
import { route53ZoneSource } from '../../src/infra/dns/route53.ts';
import { planZones, pulumiOwnedRecords } from '../../src/infra/dns-zones.ts';
import { readFleetState } from '../../src/infra/fleet-state.ts';
import { hcloudFirewallRules, hcloudServerPlan } from '../../src/infra/hcloud-mirror.ts';
import { delegatedSubset, normalizeNameservers } from '../../src/domain/delegated-nameservers.ts';
import {
  parsePlaceholder,
  requireDelegatedSubset,
  quotedTxt,
  relativeName,
  resourceName,
  route53Txt,
  valueKey,
} from '../../src/infra/record-values.ts';
import { checkRegistrars, registrarAction } from '../../src/infra/registrar.ts';
import { requiredSecret, secretSource } from '../../src/infra/secrets.ts';
import { sshMirrorPlan } from '../../src/infra/ssh-mirror.ts';
import { placeholder } from '../../src/planner/desired-records.ts';
import { markerRecord } from '../../src/planner/ownership.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample0 t';
const mirror = (over: Partial<MirrorSpec>): MirrorSpec => ({ name: 'm1', provider: 'aws', settings: {}, ...over });

describe('placeholders and record values', () => {
  it('parses what desiredRecords emits, and nothing else', () => {
    assert.deepEqual(parsePlaceholder(placeholder('aws-fra', 'ipv4')), { mirror: 'aws-fra', family: 'ipv4' });
    assert.deepEqual(parsePlaceholder(placeholder('h-1', 'ipv6')), { mirror: 'h-1', family: 'ipv6' });
    assert.equal(parsePlaceholder('192.0.2.1'), undefined);
    assert.equal(parsePlaceholder('${mirror:x:ipv5}'), undefined);
  });

  it('value keys follow the mirror, not the address, so one mirror leaving removes exactly its record', () => {
    assert.equal(valueKey('A', placeholder('aws-fra', 'ipv4')), 'aws-fra-ipv4');
    assert.equal(valueKey('A', '203.0.113.10'), '203.0.113.10');
    assert.match(valueKey('TXT', 'heritage=flotilla,owner=x'), /^[0-9a-f]{10}$/);
  });

  it('resource names never contain the URN separator', () => {
    const n = resourceName('cf', 'example.org', 'AAAA', '2001:db8::1');
    assert.ok(!n.includes('::') && !n.includes(':'), n);
    assert.equal(n, 'cf-example.org-AAAA-2001-db8-1');
  });

  it('quotes TXT for Cloudflare/Hetzner and splits for Route 53', () => {
    assert.equal(quotedTxt('heritage=flotilla,owner=x'), '"heritage=flotilla,owner=x"');
    assert.equal(quotedTxt('say "hi"\\'), '"say \\"hi\\"\\\\"');
    assert.equal(quotedTxt('a'.repeat(256)), `"${'a'.repeat(255)}" "a"`);
    assert.equal(route53Txt('plain'), 'plain');
    assert.equal(route53Txt('a'.repeat(256)), `${'a'.repeat(255)}""a`);
  });

  it('relative names for Hetzner RRsets', () => {
    assert.equal(relativeName('example.org', 'example.org'), '@');
    assert.equal(relativeName('WWW.example.org.', 'example.org'), 'www');
    assert.equal(relativeName('_flotilla-a.www.example.org', 'example.org'), '_flotilla-a.www');
    assert.throws(() => relativeName('example.com', 'example.org'), /not inside zone/);
  });

  it('normalises nameserver lists', () => {
    assert.deepEqual(normalizeNameservers(['B.ns.example.', 'a.ns.example', 'b.ns.example']), ['a.ns.example', 'b.ns.example']);
  });
});

describe('aws mirror args', () => {
  it('picks arm64 for Graviton sizes and x86_64 otherwise', () => {
    for (const t of ['t4g.micro', 'm7gd.large', 'c6gn.xlarge', 'a1.medium', 'g5g.xlarge']) assert.equal(awsArchitecture(t), 'arm64', t);
    for (const t of ['t3.micro', 'm6i.large', 'g5.xlarge', 'c5n.large']) assert.equal(awsArchitecture(t), 'x86_64', t);
  });

  it('looks up the official Debian 12 image for the architecture; takes an AMI id as is; refuses other images', () => {
    const arm = amiChoice(mirror({}), 't4g.micro');
    assert.ok('lookup' in arm);
    assert.deepEqual(arm.lookup.owners, ['136693071363']);
    assert.deepEqual(arm.lookup.filters!.find((f) => f.name === 'name')!.values, ['debian-12-arm64-*']);
    assert.deepEqual(arm.lookup.filters!.find((f) => f.name === 'architecture')!.values, ['arm64']);
    const x86 = amiChoice(mirror({ settings: { image: 'ubuntu' } }), 't3.small');
    assert.ok('lookup' in x86);
    assert.deepEqual(x86.lookup.owners, ['099720109477']);
    assert.match(x86.lookup.filters!.find((f) => f.name === 'name')!.values[0], /ubuntu-noble-24\.04-amd64/);
    assert.deepEqual(amiChoice(mirror({ settings: { image: 'ami-0123' } }), 't3.small'), { ami: 'ami-0123' });
    assert.throws(() => amiChoice(mirror({ settings: { image: 'windows' } }), 't3.small'), ConfigError);
  });

  it('opens 80, 443 and 22 (the deploy step) and nothing else inbound; user data carries the key, not the site', () => {
    const r = awsSecurityGroupRules();
    assert.deepEqual((r.ingress as { fromPort: number }[]).map((i) => i.fromPort).sort((a, b) => a - b), [22, 80, 443]);
    const plan = awsInstancePlan({ mirror: mirror({ settings: { region: 'eu-central-1' } }), stack: 'st', sshPublicKey: KEY });
    assert.equal(plan.instanceType, 't4g.micro');
    assert.equal(plan.architecture, 'arm64');
    assert.ok(plan.userData.includes(KEY));
    assert.equal(plan.sshUser, 'admin');
    assert.equal(awsSshUser(mirror({ settings: { image: 'ubuntu' } })), 'ubuntu');
    assert.equal(awsSshUser(mirror({ settings: { image: 'ami-1', sshUser: 'ec2-user' } })), 'ec2-user');
  });
});

describe('hcloud and ssh mirror args', () => {
  it('hcloud: firewall on 80/443/22 in; the server keeps its name (its Primary IPs keep the addresses)', () => {
    assert.deepEqual(hcloudFirewallRules().map((r) => r.port), ['80', '443', '22']);
    const plan = hcloudServerPlan({ mirror: mirror({ provider: 'hcloud', settings: { region: 'nbg1', size: 'cax11' } }), stack: 'st', sshPublicKey: KEY });
    assert.equal(plan.serverName, 'flotilla-st-m1');
    assert.equal(plan.location, 'nbg1');
    assert.equal(plan.image, 'debian-12');
    assert.equal(plan.sshUser, 'root');
    assert.ok(plan.userData.includes(KEY));
    assert.ok(Object.values(plan.labels).every((v) => v.length <= 63), 'hcloud label values are at most 63 characters');
  });

  it('ssh: connects to the spec address as the spec user; needs sshKeyEnv; the host id is its address', () => {
    const plan = sshMirrorPlan({ mirror: mirror({ provider: 'ssh', ipv4: '203.0.113.10', settings: { sshUser: 'deploy', sshKeyEnv: 'K' } }) });
    assert.equal(plan.host, '203.0.113.10');
    assert.equal(plan.user, 'deploy');
    assert.equal(plan.keyEnv, 'K');
    assert.equal(plan.hostId, 'ssh:203.0.113.10');
    assert.throws(
      () => sshMirrorPlan({ mirror: mirror({ provider: 'ssh', ipv4: '203.0.113.10' }) }),
      (e: unknown) => e instanceof ConfigError && /sshKeyEnv/.test(e.message),
    );
  });

  it('a missing secret names the variable, never a value', () => {
    const src = secretSource({ OTHER: 'x' }, 'throw');
    assert.throws(
      () => requiredSecret(src, 'FLOTILLA_SSH_KEY', 'the key of box'),
      (e: unknown) => e instanceof ConfigError && e.message.includes('FLOTILLA_SSH_KEY') && e.message.includes('not set'),
    );
    const ok = secretSource({ FLOTILLA_SSH_KEY: 'k3y-value' }, 'throw');
    requiredSecret(ok, 'FLOTILLA_SSH_KEY', 'k');
    assert.ok(ok.seen.has('k3y-value'), 'the value is remembered so previews can prove it never leaks');
  });

  it('registrar actions', () => {
    assert.equal(registrarAction('route53domains'), 'set-by-pulumi');
    assert.equal(registrarAction('cloudflare'), 'export-only');
    assert.equal(registrarAction('manual'), 'paste-by-hand');
  });
});

describe('zone and registrar planning', () => {
  const www = (zone: string, ttl: number): RecordSet => ({ name: `www.${zone}`, type: 'A', ttl, values: ['192.0.2.1'] });
  const marked = (zone: string, ttl: number): RecordSet[] => [markerRecord(`www.${zone}`, 'A', 'o', ttl), www(zone, ttl)];
  const oneZone = (ttl: number) => ({ 'example.org': marked('example.org', ttl) });
  const providers: DnsProviderSpec[] = [
    { name: 'cf', kind: 'cloudflare' as const, settings: { tokenEnv: 'T', accountId: 'acc' } },
    { name: 'r53', kind: 'route53' as const, settings: { accessKeyIdEnv: 'A', secretAccessKeyEnv: 'S', hostedZoneId: 'Z1' } },
    { name: 'hz', kind: 'hcloud' as const, settings: { tokenEnv: 'H' } },
    { name: 'pdns', kind: 'powerdns' as const, settings: { url: 'http://127.0.0.1:1', apiKeyEnv: 'P' } },
    { name: 'bind', kind: 'rfc2136' as const, settings: {} },
    { name: 'emb', kind: 'local' as const, settings: {} },
  ];

  it('Pulumi manages cloudflare, route53 and hcloud; the rest are left to the controller with a note each', () => {
    const plan = planZones(providers, oneZone(60), 60);
    assert.deepEqual(plan.managed.map((p) => p.provider.name), ['cf', 'r53', 'hz']);
    assert.deepEqual(plan.skipped.map((p) => p.name), ['pdns', 'bind', 'emb']);
    assert.equal(plan.notes.filter((n) => /not by Pulumi: skipped/.test(n.message)).length, 3);
    assert.equal(plan.managed[0].options.accountId, 'acc');
    assert.equal(plan.managed[1].options.hostedZoneId, 'Z1', 'an existing hosted zone is adopted, not duplicated');
    assert.ok(plan.managed.every((p) => p.ttl === 60));
  });

  it('raises a low TTL per provider with a warning; ignores hostedZoneId when there are several zones', () => {
    const plan = planZones(providers, { ...oneZone(5), 'example.net': marked('example.net', 5) }, 5);
    assert.deepEqual(plan.managed.map((p) => p.ttl), [60, 5, 60]);
    assert.deepEqual(
      plan.managed.map((p) => Object.values(p.zones).flat().map((r) => r.ttl)),
      [[60, 60], [5, 5], [60, 60]],
      'the records themselves carry the raised TTL, as the controller writes them',
    );
    assert.equal(plan.managed[1].options.hostedZoneId, undefined);
    assert.ok(plan.notes.some((n) => n.level === 'warn' && /hostedZoneId is ignored/.test(n.message)));
    assert.deepEqual(
      plan.notes.filter((n) => n.level === 'warn' && /raised/.test(n.message)).map((n) => n.message),
      ["cf: ttl 5 raised to 60, the provider's floor", "hz: ttl 5 raised to 60, the provider's floor"],
    );
  });

  it('a Cloudflare provider without accountId is a ConfigError', () => {
    assert.throws(() => planZones([{ name: 'cf', kind: 'cloudflare', settings: { tokenEnv: 'T' } }], oneZone(60), 60), (e: unknown) => e instanceof ConfigError && /cf\.settings\.accountId/.test(e.message));
  });

  it('a registrar for a domain the fleet does not publish is a ConfigError', () => {
    const r = (domain: string) => ({ domain: 'example.org', registrars: [{ name: 'reg', kind: 'manual' as const, domain, settings: {} }] });
    checkRegistrars(r('example.org'), ['example.org']);
    assert.throws(() => checkRegistrars(r('example.net'), ['example.org']), (e: unknown) => e instanceof ConfigError && /example\.net/.test(e.message));
  });
});

describe('one owner per record', () => {
  it('Pulumi owns the markers only: every serving A/AAAA set is left to the controller', () => {
    const zone: RecordSet[] = [
      markerRecord('example.org', 'A', 'o', 60),
      { name: 'example.org', type: 'A', ttl: 60, values: ['192.0.2.1'] },
      markerRecord('example.org', 'AAAA', 'o', 60),
      { name: 'example.org', type: 'AAAA', ttl: 60, values: ['2001:db8::1'] },
      { name: 'example.org', type: 'TXT', ttl: 60, values: ['v=spf1 -all'] },
    ];
    assert.deepEqual(pulumiOwnedRecords(zone).map((r) => `${r.name}/${r.type}`), ['_flotilla-a.example.org/TXT', '_flotilla-aaaa.example.org/TXT']);
    const plan = planZones([{ name: 'hz', kind: 'hcloud', settings: {} }], { 'example.org': zone }, 60);
    assert.ok(Object.values(plan.managed[0].zones).flat().every((r) => r.type === 'TXT' && r.name.startsWith('_flotilla-')));
    assert.equal(plan.managed[0].delegated, 2, 'two nameservers per provider by default');
  });

  it('Route 53: a zone registered with Route 53 Domains is adopted by name; hostedZoneId wins; otherwise created', () => {
    assert.deepEqual(route53ZoneSource({ zone: 'example.org', options: {}, registrars: ['route53domains'] }), { by: 'name', name: 'example.org' });
    assert.deepEqual(route53ZoneSource({ zone: 'example.org', options: { hostedZoneId: 'Z1' }, registrars: ['route53domains'] }), { by: 'id', hostedZoneId: 'Z1' });
    assert.deepEqual(route53ZoneSource({ zone: 'example.org', options: {}, registrars: ['manual'] }), { by: 'create' });
  });

  it('the delegated subset: the first n of the sorted, normalised list (the domain rule); fewer than n is an error here', () => {
    assert.deepEqual(requireDelegatedSubset(['NS-2.Example.', 'ns-1.example', 'ns-3.example'], 2, 'p'), ['ns-1.example', 'ns-2.example']);
    assert.deepEqual(requireDelegatedSubset(['NS-2.Example.', 'ns-1.example', 'ns-3.example'], 2, 'p'), delegatedSubset(['ns-3.example', 'ns-2.example', 'ns-1.example'], 2));
    assert.throws(() => requireDelegatedSubset(['a.example'], 2, 'p (zone z)'), /p \(zone z\) assigned 1 nameserver\(s\), fewer than delegatedNameservers \(2\)/);
  });
});

describe('readFleetState: only the delegation guard\'s decisions', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-infra-state-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is empty when there is no state file', async () => {
    assert.deepEqual(await readFleetState({ stack: 't', state: { kind: 'file', path: join(dir, 'none'), endpoints: [] } }), { pruned: {} });
  });

  it('reads the guard\'s pruned providers and the published manifest, never health or overrides', async () => {
    const health = { a: { state: 'down', successStreak: 0, failureStreak: 3, recentFlips: [] } };
    await writeFile(join(dir, 'state.json'), JSON.stringify({ version: 3, health, overrides: [], lastGood: ['b'], providers: {}, delegation: { pruned: { 'example.org': ['pdns'] }, lost: {} }, manifest: { sequence: 2, publishedAt: 1, json: '{"m":2}' } }));
    const s = await readFleetState({ stack: 't', state: { kind: 'file', path: dir, endpoints: [] } });
    assert.deepEqual(s, { pruned: { 'example.org': ['pdns'] }, manifestJson: '{"m":2}', manifestSequence: 2 });
  });

  it('throws a StateError on a corrupt file', async () => {
    await writeFile(join(dir, 'state.json'), '{nope');
    await assert.rejects(readFleetState({ stack: 't', state: { kind: 'file', path: dir, endpoints: [] } }), StateError);
  });
});
