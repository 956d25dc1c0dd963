/**
 * The example stack through the real Pulumi program and the real provider packages, under pulumi.runtime.setMocks
 * (no CLI, no cloud account). This file runs in its own process: setMocks is process-global.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
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
  // a real key: the program derives its public half for the cloud hosts' user data
  FLOTILLA_DEPLOY_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  CLOUDFLARE_API_TOKEN: 'cf-fake-token-0b9d8e7f',
  HCLOUD_TOKEN: 'hcloud-fake-token-5c4d3e2f',
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
  it('registers hosts, stable addresses, deploy steps, zones, markers, apex NS and the registrar', () => {
    const types = new Set(result.resources.map((r) => r.type));
    for (const t of [
      'flotilla:mirror:AwsMirror',
      'flotilla:mirror:HcloudMirror',
      'flotilla:mirror:SshMirror',
      'flotilla:mirror:SiteDeploy',
      'aws:ec2/securityGroup:SecurityGroup',
      'aws:ec2/instance:Instance',
      'aws:ec2/eip:Eip',
      'aws:ec2/eipAssociation:EipAssociation',
      'hcloud:index/firewall:Firewall',
      'hcloud:index/primaryIp:PrimaryIp',
      'hcloud:index/server:Server',
      'command:remote:CopyToRemote',
      'command:remote:Command',
      'cloudflare:index/zone:Zone',
      'cloudflare:index/zoneDnsSettings:ZoneDnsSettings',
      'cloudflare:index/dnsRecord:DnsRecord',
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

  it('one owner per record: no serving A/AAAA set is Pulumi-managed at any provider', () => {
    const records = result.resources.filter((r) => /dnsRecord:DnsRecord|route53\/record:Record|zoneRrset:ZoneRrset/.test(r.type));
    assert.ok(records.length > 0);
    for (const r of records) {
      assert.ok(['TXT', 'NS'].includes(String(r.inputs.type)), `${r.type} ${r.name} is ${r.inputs.type}`);
      if (r.inputs.type === 'TXT') assert.match(String(r.inputs.name), /^_flotilla-/, `${r.name}: only ownership markers`);
    }
    assert.ok(!JSON.stringify(result.resources).includes('${mirror:'), 'no placeholder anywhere');
    assert.equal(result.outputs.serving, undefined, 'what serves is the controller\'s to say');
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

  it('every provider\'s apex NS set lists the delegated nameservers of every provider', () => {
    const delegated = result.outputs.nameservers as Record<string, string[]>;
    assert.deepEqual(Object.keys(delegated).sort(), ['cloudflare', 'hetzner', 'route53']);
    for (const ns of Object.values(delegated)) assert.equal(ns.length, 2, 'delegatedNameservers: 2 each');
    const all = Object.values(delegated).flat().sort();
    assert.deepEqual(result.outputs.allNameservers, all);
    // Route 53 and Hetzner: one NS set at the apex with all six
    const r53 = one('aws:route53/record:Record', 'route53-example.org-apex-ns').inputs;
    assert.equal(r53.name, 'example.org');
    assert.equal(r53.type, 'NS');
    assert.deepEqual(r53.records, all);
    assert.equal(r53.allowOverwrite, true, 'takes over the NS set Route 53 created with the zone');
    const hz = one('hcloud:index/zoneRrset:ZoneRrset', 'hetzner-example.org-apex-ns').inputs;
    assert.deepEqual([hz.name, hz.type], ['@', 'NS']);
    assert.deepEqual((hz.records as { value: string }[]).map((v) => v.value), all.map((n) => `${n}.`));
    // Cloudflare serves its own; the others' are apex NS records there (multi-provider DNS)
    const cf = byType('cloudflare:index/dnsRecord:DnsRecord').filter((r) => r.inputs.type === 'NS');
    assert.ok(cf.every((r) => r.inputs.name === 'example.org'));
    assert.deepEqual(cf.map((r) => r.inputs.content).sort(), [...delegated.route53, ...delegated.hetzner].sort());
  });

  it('the Route 53 hosted zone of a Route 53 Domains registration is adopted by name, not created', () => {
    assert.equal(byType('aws:route53/zone:Zone').length, 0);
    const apex = one('aws:route53/record:Record', 'route53-example.org-apex-ns').inputs;
    assert.match(String(apex.zoneId), /^Z[0-9A-F]{20}$/, 'the zone id getZone found');
  });

  it('the registrar lists the six delegated nameservers (Route 53 Domains takes at most 6), in us-east-1', () => {
    const reg = one('aws:route53domains/registeredDomain:RegisteredDomain', 'registrar-registrar');
    assert.equal(reg.inputs.domainName, 'example.org');
    const listed = (reg.inputs.nameServers as { name: string }[]).map((n) => n.name);
    assert.equal(listed.length, 6);
    assert.deepEqual(listed, result.outputs.allNameservers);
    assert.ok(listed.includes('hydrogen.ns.hetzner.com') || listed.includes('helium.ns.hetzner.de'), 'trailing dots removed');
    assert.equal(one('pulumi:providers:aws', 'registrar-registrar-aws').inputs.region, 'us-east-1');
  });

  it('the EC2 instance: user data with nginx and the deploy key only; an Elastic IP is its address', () => {
    const i = one('aws:ec2/instance:Instance', 'aws-fra-host').inputs;
    assert.equal(i.instanceType, 't4g.micro');
    assert.equal(i.region, 'eu-central-1');
    assert.match(String(i.ami), /^ami-[0-9a-f]+$/);
    assert.match(String(i.userData), /^#cloud-config/);
    assert.match(String(i.userData), /- nginx/);
    assert.match(String(i.userData), /ssh_authorized_keys:\n {2}- ssh-ed25519 AAAA\S+ flotilla-example-deploy/);
    assert.ok(!String(i.userData).includes(spec.site.digest), 'no site in user data');
    const sg = one('aws:ec2/securityGroup:SecurityGroup', 'aws-fra-web').inputs;
    assert.deepEqual((sg.ingress as { fromPort: number }[]).map((x) => x.fromPort).sort((a, b) => a - b), [22, 80, 443]);
    const eip = mockResource('aws:ec2/eip:Eip', 'aws-fra-ip', {});
    const assoc = one('aws:ec2/eipAssociation:EipAssociation', 'aws-fra-ip-assoc').inputs;
    assert.equal(assoc.allocationId, eip.state.allocationId);
    assert.equal(assoc.instanceId, mockResource('aws:ec2/instance:Instance', 'aws-fra-host', {}).id);
    assert.equal((result.outputs.mirrors as Record<string, { ipv4: string }>)['aws-fra'].ipv4, eip.state.publicIp);
  });

  it('the Hetzner server: on Primary IPs of its own (autoDelete off), cloud-init without the site', () => {
    const s = one('hcloud:index/server:Server', 'hetzner-nbg-host').inputs;
    assert.equal(s.serverType, 'cax11');
    assert.equal(s.location, 'nbg1');
    assert.ok(!String(s.userData).includes(spec.site.digest));
    const v4 = mockResource('hcloud:index/primaryIp:PrimaryIp', 'hetzner-nbg-ipv4', { type: 'ipv4' });
    const v6 = mockResource('hcloud:index/primaryIp:PrimaryIp', 'hetzner-nbg-ipv6', { type: 'ipv6' });
    assert.deepEqual(s.publicNets, [{ ipv4Enabled: true, ipv4: Number(v4.id), ipv6Enabled: true, ipv6: Number(v6.id) }]);
    for (const n of ['hetzner-nbg-ipv4', 'hetzner-nbg-ipv6']) assert.equal(one('hcloud:index/primaryIp:PrimaryIp', n).inputs.autoDelete, false);
    assert.equal((result.outputs.mirrors as Record<string, { ipv4: string }>)['hetzner-nbg'].ipv4, v4.state.ipAddress);
    assert.deepEqual(s.firewallIds, [Number(mockResource('hcloud:index/firewall:Firewall', 'hetzner-nbg-web', {}).id)]);
    // the deploy key for root, registered once per stack
    const key = one('hcloud:index/sshKey:SshKey', 'hcloud-deploy-key').inputs;
    assert.equal(key.name, 'flotilla-example-deploy');
    assert.match(String(key.publicKey), /^ssh-ed25519 AAAA/);
    assert.deepEqual(s.sshKeys, [mockResource('hcloud:index/sshKey:SshKey', 'hcloud-deploy-key', {}).id]);
  });

  it('every host kind gets the site the same way: a copy without a trailing slash and the install command, key secret', () => {
    for (const m of ['aws-fra', 'hetzner-nbg', 'box-ams']) {
      const copy = one('command:remote:CopyToRemote', `${m}-site-copy`).inputs;
      assert.deepEqual(copy.source, { archive: spec.site.contentDir });
      assert.ok(!spec.site.contentDir.endsWith('/'));
      assert.equal(copy.connection, REDACTED);
      const cmd = one('command:remote:Command', `${m}-site-install`).inputs;
      assert.equal(cmd.connection, REDACTED);
      assert.ok(String(cmd.create).includes(`"$HOME"/'${copy.remotePath}/site'`), 'the script reads where the copy lands');
      assert.ok(String(cmd.create).includes(spec.site.digest));
      assert.match(String(cmd.delete), /nothing of ours to remove/);
      // a new host (its id) replaces both; any other change is an update that re-runs `create` (no `update` given)
      assert.equal(cmd.update, undefined);
      assert.deepEqual(cmd.triggers, copy.triggers);
    }
    assert.deepEqual(one('command:remote:Command', 'aws-fra-site-install').inputs.triggers, [mockResource('aws:ec2/instance:Instance', 'aws-fra-host', {}).id]);
    assert.deepEqual(one('command:remote:Command', 'hetzner-nbg-site-install').inputs.triggers, [mockResource('hcloud:index/server:Server', 'hetzner-nbg-host', {}).id]);
    assert.deepEqual(one('command:remote:Command', 'box-ams-site-install').inputs.triggers, ['ssh:203.0.113.10']);
  });

  it('the outputs name every mirror with its addresses, provider, resource id and deployed digest', () => {
    const mirrors = result.outputs.mirrors as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(mirrors).sort(), ['aws-fra', 'box-ams', 'hetzner-nbg']);
    assert.equal(mirrors['aws-fra'].resourceId, mockResource('aws:ec2/instance:Instance', 'aws-fra-host', {}).id);
    assert.equal(mirrors['hetzner-nbg'].resourceId, mockResource('hcloud:index/server:Server', 'hetzner-nbg-host', {}).id);
    assert.equal(mirrors['hetzner-nbg'].ipv6, mockResource('hcloud:index/server:Server', 'hetzner-nbg-host', {}).state.ipv6Address);
    assert.deepEqual(mirrors['box-ams'], { provider: 'ssh', ipv4: '203.0.113.10', ipv6: undefined, resourceId: 'ssh:203.0.113.10', digest: spec.site.digest });
    for (const m of Object.values(mirrors)) assert.equal(m.digest, spec.site.digest);
  });

  it('the Cloudflare zone has multi-provider DNS on', () => {
    const zone = one('cloudflare:index/zone:Zone', 'cloudflare-example.org-zone');
    assert.equal(zone.inputs.name, 'example.org');
    assert.deepEqual(zone.inputs.account, { id: '0123456789abcdef0123456789abcdef' });
    const settings = one('cloudflare:index/zoneDnsSettings:ZoneDnsSettings', 'cloudflare-example.org-dns-settings');
    assert.equal(settings.inputs.multiProvider, true);
  });

  it('no secret appears anywhere: inputs, outputs, log, rendered table', () => {
    assert.deepEqual(result.plainSecrets, [], 'a secret value was passed somewhere not marked secret');
    const everything = JSON.stringify(result) + renderPreview(result.resources);
    for (const [k, v] of Object.entries(FAKE)) {
      assert.ok(!everything.includes(v), `${k} leaked`);
      for (const line of v.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))) assert.ok(!everything.includes(line), `${k} leaked in part`);
    }
    assert.equal(one('pulumi:providers:hcloud', 'hetzner-provider').inputs.token, REDACTED);
    assert.equal(one('pulumi:providers:cloudflare', 'cloudflare-provider').inputs.apiToken, REDACTED);
    const r53 = one('pulumi:providers:aws', 'route53-provider').inputs;
    assert.equal(r53.accessKey, undefined, 'no key variables named: the AWS default credential chain');
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
