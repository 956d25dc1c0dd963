/**
 * `flotilla domains` as a user runs it, against real servers: a BIND parent delegating the site's zone to a BIND
 * child (RFC 2136 provider) and PowerDNS, with a local RDAP server. Then PowerDNS loses the zone.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LAB_ZONE as ZONE, startDelegationLab, type DelegationLab } from '../support/delegation-lab.ts';
import { REPO, runCli } from '../support/run-cli.ts';

describe('flotilla domains', () => {
  let lab: DelegationLab | undefined;
  let rdap: Server | undefined;
  let dir = '';
  let env: Record<string, string> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-domains-'));
    lab = await startDelegationLab();
    const { parent, child, pdns, port } = lab;
    rdap = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/bootstrap.json') return res.end(JSON.stringify({ services: [[['test'], [`http://127.0.0.1:${(rdap!.address() as AddressInfo).port}/`]]] }));
      if (req.url === `/domain/${ZONE}`)
        return res.end(JSON.stringify({ objectClassName: 'domain', status: ['active'], events: [{ eventAction: 'expiration', eventDate: new Date(Date.now() + 400 * 86_400_000).toISOString() }] }));
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => rdap!.listen(0, '127.0.0.1', r));
    const rdapPort = (rdap.address() as AddressInfo).port;
    env = { DRILL_TSIG: child.secret, DRILL_PDNS_KEY: pdns.apiKey };
    await writeFile(
      join(dir, 'Pulumi.drill.yaml'),
      [
        'config:',
        '  flotilla:fleet:',
        `    site: { name: drill, contentDir: ${join(REPO, 'site')} }`,
        `    domain: ${ZONE}`,
        '    mirrors: [{ name: a, provider: local, ipv4: 127.0.0.11 }]',
        '    dnsProviders:',
        `      - { name: bind, kind: rfc2136, settings: { server: "${child.address}", tsigKeyName: ${child.keyName}, tsigSecretEnv: DRILL_TSIG } }`,
        `      - { name: pdns, kind: powerdns, settings: { url: "${pdns.apiUrl}", apiKeyEnv: DRILL_PDNS_KEY, nameservers: ["${pdns.dnsAddress}"] } }`,
        '    delegation:',
        `      parents: ["${parent.address}"]`,
        `      nameserverPort: ${port}`,
        '      nameservers: { bind: [ns1.bind.drill.test], pdns: [ns1.pdns.drill.test] }',
        `      rdapBootstrap: http://127.0.0.1:${rdapPort}/bootstrap.json`,
        '      timeout: 1s',
        `    state: { path: ${join(dir, 'state')} }`,
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await Promise.all([lab?.stop(), rdap && new Promise((r) => rdap!.close(r))]);
    await rm(dir, { recursive: true, force: true });
  });

  it('healthy: exit 0, both providers answering, registry status and expiry shown', async () => {
    const r = await runCli(['domains', '--config', join(dir, 'Pulumi.drill.yaml')], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /drill\.test: healthy/);
    assert.match(r.stdout, /ns1\.pdns\.drill\.test\s+yes\s+answering/);
    assert.match(r.stdout, /registry: active; expires \d{4}-\d\d-\d\d \((399|400) days/);
  });

  it('expects each provider\'s delegated subset only: a name pulumi up does not delegate is not "ours not listed"', async () => {
    // pdns has two names and delegatedNameservers: 1 — the parent lists ns1.pdns (the first sorted), which is right
    const conf = join(dir, 'Pulumi.subset.yaml');
    await writeFile(
      conf,
      (await readFile(join(dir, 'Pulumi.drill.yaml'), 'utf8'))
        .replace(/(- \{ name: pdns, kind: powerdns, .*) \}\n/, '$1, delegatedNameservers: 1 }\n')
        .replace('pdns: [ns1.pdns.drill.test]', 'pdns: [ns2.pdns.drill.test, ns1.pdns.drill.test]'),
    );
    const r = await runCli(['domains', '--config', conf], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /ours not listed|ns2\.pdns/);
    const doc = JSON.parse((await runCli(['domains', '--config', conf, '--json'], { env })).stdout);
    assert.deepEqual(doc.domains[0].expected.find((p: { provider: string }) => p.provider === 'pdns').nameservers, ['ns1.pdns.drill.test']);
    assert.deepEqual(doc.domains[0].verdict.missingNs, []);
    assert.equal(doc.domains[0].plan.change, false, 'the guard would write nothing');
  });

  it('a provider lost its zone: exit 1, the provider named lame, JSON says so', async () => {
    await lab!.deletePdnsZone();
    const r = await runCli(['domains', '--config', join(dir, 'Pulumi.drill.yaml')], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /lame-provider/);
    assert.match(r.stdout, /LAME: answers REFUSED/);
    assert.match(r.stdout, /plan \(dry run\): prune pdns \(after 3 lame checks\) at no registrar configured: by hand: NS ns1\.bind\.drill\.test/);
    const j = await runCli(['domains', '--config', join(dir, 'Pulumi.drill.yaml'), '--json'], { env });
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.domains[0].verdict.providers.find((p: { provider: string }) => p.provider === 'pdns').state, 'lame');
    assert.equal(doc.domains[0].verdict.lost, false);
    assert.deepEqual(doc.domains[0].plan.pruned, ['pdns']);
  });
});
