/**
 * The example stack through the real Pulumi program and the real provider packages, under pulumi.runtime.setMocks
 * (no CLI, no cloud account). This file runs in its own process: setMocks is process-global.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadStack } from '../../src/config/load-stack.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { mockPreview, mockResource, REDACTED, renderPreview, type MockPreviewResult, type PreviewResource } from '../../src/infra/mock-preview.ts';
import { markerName, markerValue } from '../../src/planner/ownership.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
// fake credentials: none of them may appear anywhere in the preview
const FAKE = {
  FLOTILLA_SSH_KEY: '-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZS1rZXktZm9yLWZsb3RpbGxhLXRlc3Rz\n-----END OPENSSH PRIVATE KEY-----\n',
  CLOUDFLARE_API_TOKEN: 'cf-fake-token-0b9d8e7f',
  HCLOUD_TOKEN: 'hcloud-fake-token-5c4d3e2f',
  AWS_ACCESS_KEY_ID: 'AKIAFAKEFLOTILLA0001',
  AWS_SECRET_ACCESS_KEY: 'fake/secret/access/key/flotilla/000001',
};

let spec: FleetSpec;
let stateDir: string;
let result: MockPreviewResult;
const byType = (t: string) => result.resources.filter((r) => r.type === t);
const one = (t: string, name: string) => {
  const r = result.resources.find((x) => x.type === t && x.name === name);
  assert.ok(r, `${t} ${name} registered`);
  return r;
};

before(async () => {
  Object.assign(process.env, FAKE);
  spec = await loadStack({ stack: 'example', cwd: ROOT });
  // an empty state dir of our own, so a state file left in the repo cannot change the answer
  stateDir = await mkdtemp(join(tmpdir(), 'flotilla-preview-'));
  spec.state.path = stateDir;
  result = await mockPreview({ spec });
});

after(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('mock preview of the example stack', () => {
  it('registers hosts, zones, records and the registrar with the providers\' exact type tokens', () => {
    const types = new Set(result.resources.map((r) => r.type));
    for (const t of [
      'flotilla:mirror:AwsMirror',
      'flotilla:mirror:HcloudMirror',
      'flotilla:mirror:SshMirror',
      'aws:ec2/securityGroup:SecurityGroup',
      'aws:ec2/instance:Instance',
      'hcloud:index/firewall:Firewall',
      'hcloud:index/server:Server',
      'command:remote:CopyToRemote',
      'command:remote:Command',
      'cloudflare:index/zone:Zone',
      'cloudflare:index/zoneDnsSettings:ZoneDnsSettings',
      'cloudflare:index/dnsRecord:DnsRecord',
      'aws:route53/zone:Zone',
      'aws:route53/record:Record',
      'hcloud:index/zone:Zone',
      'hcloud:index/zoneRrset:ZoneRrset',
      'aws:route53domains/registeredDomain:RegisteredDomain',
    ]) {
      assert.ok(types.has(t), `missing ${t}; saw ${[...types].join(', ')}`);
    }
    assert.equal(result.stack, 'example');
    assert.equal(result.outputs.siteDigest, spec.site.digest);
  });

  it('the EC2 instance: the size and region of the spec, the AMI from getAmi, user data with nginx and the digest', () => {
    const i = one('aws:ec2/instance:Instance', 'aws-fra-host').inputs;
    assert.equal(i.instanceType, 't4g.micro');
    assert.equal(i.region, 'eu-central-1');
    assert.match(String(i.ami), /^ami-[0-9a-f]+$/);
    assert.match(String(i.userData), /^#cloud-config/);
    assert.ok(String(i.userData).includes(spec.site.digest));
    assert.match(String(i.userData), /- nginx/);
    assert.equal(i.userDataReplaceOnChange, true);
    const sg = one('aws:ec2/securityGroup:SecurityGroup', 'aws-fra-web').inputs;
    assert.deepEqual((sg.ingress as { fromPort: number }[]).map((x) => x.fromPort).sort(), [443, 80]);
  });

  it('the Hetzner server: type, location, cloud-init with the digest, behind its firewall', () => {
    const s = one('hcloud:index/server:Server', 'hetzner-nbg-host').inputs;
    assert.equal(s.serverType, 'cax11');
    assert.equal(s.location, 'nbg1');
    assert.ok(String(s.userData).includes(spec.site.digest));
    assert.deepEqual(s.firewallIds, [Number(mockResource('hcloud:index/firewall:Firewall', 'hetzner-nbg-web', {}).id)]);
  });

  it('every record value is a mirror address: the mocked cloud IPs and the SSH box', () => {
    const awsIp = String(mockResource('aws:ec2/instance:Instance', 'aws-fra-host', {}).state.publicIp);
    const hzIp = String(mockResource('hcloud:index/server:Server', 'hetzner-nbg-host', {}).state.ipv4Address);
    const expected = [awsIp, hzIp, '203.0.113.10'].sort();
    const mirrors = result.outputs.mirrors as Record<string, { ipv4: string }>;
    assert.deepEqual([mirrors['aws-fra'].ipv4, mirrors['hetzner-nbg'].ipv4, mirrors['box-ams'].ipv4].sort(), expected);

    for (const name of ['example.org', 'www.example.org']) {
      const cf = byType('cloudflare:index/dnsRecord:DnsRecord').filter((r) => r.inputs.name === name && r.inputs.type === 'A');
      assert.deepEqual(cf.map((r) => r.inputs.content).sort(), expected, `cloudflare ${name}`);
      assert.ok(cf.every((r) => r.inputs.proxied === false), 'DNS-only records');
      const r53 = byType('aws:route53/record:Record').find((r) => r.inputs.name === name && r.inputs.type === 'A');
      assert.deepEqual(r53?.inputs.records, expected, `route53 ${name}`);
      const hz = byType('hcloud:index/zoneRrset:ZoneRrset').find((r) => r.inputs.name === (name === 'example.org' ? '@' : 'www') && r.inputs.type === 'A');
      assert.deepEqual((hz?.inputs.records as { value: string }[]).map((v) => v.value), expected, `hetzner ${name}`);
    }
    assert.ok(!JSON.stringify(result.resources).includes('${mirror:'), 'no placeholder left unresolved');
  });

  it('the TTL of every record is the policy TTL', () => {
    const records = [
      ...byType('cloudflare:index/dnsRecord:DnsRecord'),
      ...byType('aws:route53/record:Record'),
      ...byType('hcloud:index/zoneRrset:ZoneRrset'),
    ];
    assert.ok(records.length >= 12);
    for (const r of records) assert.equal(r.inputs.ttl, spec.policy.ttl, `${r.type} ${r.name}`);
  });

  it('ownership markers are created at every provider', () => {
    const owner = markerValue(spec.policy.ownerId);
    for (const name of ['example.org', 'www.example.org']) {
      const m = markerName(name, 'A');
      const cf = byType('cloudflare:index/dnsRecord:DnsRecord').find((r) => r.inputs.name === m && r.inputs.type === 'TXT');
      assert.equal(cf?.inputs.content, `"${owner}"`);
      const r53 = byType('aws:route53/record:Record').find((r) => r.inputs.name === m && r.inputs.type === 'TXT');
      assert.deepEqual(r53?.inputs.records, [owner]);
      const hz = byType('hcloud:index/zoneRrset:ZoneRrset').find((r) => r.inputs.type === 'TXT' && r.inputs.name === m.replace(/\.?example\.org$/, ''));
      assert.deepEqual(hz?.inputs.records, [{ value: `"${owner}"` }]);
    }
  });

  it('the Cloudflare zone has multi-provider DNS on', () => {
    const zone = one('cloudflare:index/zone:Zone', 'cloudflare-example.org-zone');
    assert.equal(zone.inputs.name, 'example.org');
    assert.deepEqual(zone.inputs.account, { id: '0123456789abcdef0123456789abcdef' });
    const settings = one('cloudflare:index/zoneDnsSettings:ZoneDnsSettings', 'cloudflare-example.org-dns-settings');
    assert.equal(settings.inputs.multiProvider, true);
    assert.equal(settings.inputs.zoneId, mockResource('cloudflare:index/zone:Zone', 'cloudflare-example.org-zone', {}).id);
  });

  it('the registrar lists every provider\'s nameservers (cut to Route 53 Domains\' 6, one per provider first), and the outputs say which came from where', () => {
    const reg = one('aws:route53domains/registeredDomain:RegisteredDomain', 'registrar-registrar');
    assert.equal(reg.inputs.domainName, 'example.org');
    const listed = (reg.inputs.nameServers as { name: string }[]).map((n) => n.name);
    const perProvider = result.outputs.nameservers as Record<string, string[]>;
    assert.deepEqual(Object.keys(perProvider).sort(), ['cloudflare', 'hetzner', 'route53']);
    for (const [p, ns] of Object.entries(perProvider)) {
      assert.ok(ns.length >= 2, `${p} has nameservers`);
      assert.ok(ns.filter((n) => listed.includes(n)).length >= 2, `${p} keeps two nameservers at the registrar`);
    }
    const all = result.outputs.allNameservers as string[];
    assert.equal(all.length, 9, 'the stack output still names all nine');
    assert.equal(listed.length, 6, 'Route 53 Domains takes at most 6');
    for (const n of listed) assert.ok(all.includes(n));
    assert.ok(listed.includes('hydrogen.ns.hetzner.com'), 'trailing dots removed');
    // the registrar API lives in us-east-1 whatever the stack's region
    assert.equal(one('pulumi:providers:aws', 'registrar-registrar-aws').inputs.region, 'us-east-1');
  });

  it('the SSH box: content copied from the site dir, nginx configured, key passed as a secret', () => {
    const copy = one('command:remote:CopyToRemote', 'box-ams-content').inputs;
    assert.deepEqual(copy.source, { archive: spec.site.contentDir });
    assert.equal(copy.connection, REDACTED);
    const cmd = one('command:remote:Command', 'box-ams-nginx').inputs;
    assert.equal(cmd.connection, REDACTED);
    assert.match(String(cmd.create), /apt-get install .*nginx/);
    assert.ok(String(cmd.create).includes(spec.site.digest));
  });

  it('no secret appears anywhere: inputs, outputs, log, rendered table', () => {
    assert.deepEqual(result.plainSecrets, [], 'a secret value was passed somewhere not marked secret');
    const everything = JSON.stringify(result) + renderPreview(result.resources);
    for (const [k, v] of Object.entries(FAKE)) {
      assert.ok(!everything.includes(v), `${k} leaked`);
      // and no recognisable piece of it (the key body line)
      for (const line of v.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))) assert.ok(!everything.includes(line), `${k} leaked in part`);
    }
    assert.equal(one('pulumi:providers:hcloud', 'hetzner-provider').inputs.token, REDACTED);
    assert.equal(one('pulumi:providers:cloudflare', 'cloudflare-provider').inputs.apiToken, REDACTED);
    const r53 = one('pulumi:providers:aws', 'route53-provider').inputs;
    assert.equal(r53.accessKey, REDACTED);
    assert.equal(r53.secretKey, REDACTED);
  });

  it('renderPreview prints one line per resource with its key inputs', () => {
    const text = renderPreview(result.resources);
    const lines = text.split('\n');
    assert.match(lines[0], /^TYPE\s+NAME\s+KEY INPUTS$/);
    assert.ok(lines.length >= result.resources.length + 1);
    assert.match(text, /aws:ec2\/instance:Instance\s+aws-fra-host\s+region=eu-central-1 instanceType=t4g\.micro/);
    assert.match(text, /multiProvider=true/);
    const summary = lines.at(-1)!;
    const counts = (rs: PreviewResource[]) => `${rs.filter((r) => r.custom).length} resources, ${rs.filter((r) => !r.custom).length} components`;
    assert.equal(summary, counts(result.resources));
  });
});
