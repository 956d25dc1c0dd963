/**
 * `flotilla validate` and `flotilla preview --mock` tell the truth about registrars and record ownership (issue 9
 * items 2 and 3): Route 53 Domains' six-nameserver limit and Cloudflare Registrar's own-nameservers rule are clear
 * errors (file, path, expectation, exit 2); the example stack's preview has no Pulumi-managed serving record.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO, runCli } from '../support/run-cli.ts';

/** A project holding a copy of the example stack with one edit applied. */
function example(edit: (yaml: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-deploy-truth-'));
  mkdirSync(join(dir, 'stacks'));
  mkdirSync(join(dir, 'site'));
  writeFileSync(join(dir, 'site', 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
  const y = readFileSync(join(REPO, 'stacks', 'Pulumi.example.yaml'), 'utf8');
  const edited = edit(y);
  assert.notEqual(edited, y, 'the edit applies');
  writeFileSync(join(dir, 'stacks', 'Pulumi.t.yaml'), edited);
  return dir;
}

function userError(r: { code: number; stderr: string }, ...needles: (string | RegExp)[]) {
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes('Pulumi.t.yaml'), `names the file:\n${r.stderr}`);
  for (const n of needles) assert.ok(typeof n === 'string' ? r.stderr.includes(n) : n.test(r.stderr), `stderr lacks ${n}:\n${r.stderr}`);
  assert.ok(!/\n\s+at .*:\d+:\d+/.test(r.stderr), `stack trace:\n${r.stderr}`);
}

describe('validate: registrars as they are', () => {
  it('the example delegates 2 nameservers per provider, 6 in all: what Route 53 Domains accepts', async () => {
    const r = await runCli(['validate', '--stack', 'example', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout).delegation;
    assert.deepEqual(d.map((x: { registrar: string; nameservers: number; max: number }) => [x.registrar, x.nameservers, x.max]), [['registrar', 6, 6]]);
    const text = await runCli(['validate', '--stack', 'example']);
    assert.match(text.stdout, /registrar registrar \(route53domains\): 6 of at most 6 nameservers for example\.org \(cloudflare 2, route53 2, hetzner 2\)/);
    assert.match(text.stdout, /serving A\/AAAA records: written by the controller/);
  });

  it('more nameservers than Route 53 Domains accepts is an error naming the limit and the fix', async () => {
    const dir = example((y) => y.replace('delegatedNameservers: 2', 'delegatedNameservers: 3'));
    userError(await runCli(['validate', '--stack', 't'], { cwd: dir }), 'dnsProviders', 'Route 53 Domains (registrar registrar) accepts at most 6 nameservers; the DNS providers delegate 7 (cloudflare: 3, route53: 2, hetzner: 2)', 'lower delegatedNameservers');
  });

  it('Cloudflare Registrar beside other DNS providers is an error naming the fix', async () => {
    const dir = example((y) => y.replace('kind: route53domains', 'kind: cloudflare'));
    userError(
      await runCli(['validate', '--stack', 't'], { cwd: dir }),
      /registrars\[0\]\.kind/,
      "Cloudflare Registrar only allows cloudflare's own nameservers, so route53 (route53), hetzner (hcloud) can never be in the delegation",
      'transfer the domain to a registrar that accepts any nameservers',
    );
  });

  it('cloud mirrors without a deploy key variable: the path and what to put there', async () => {
    const dir = example((y) => y.replace(/ {4}deploy:\n {6}sshKeyEnv: FLOTILLA_DEPLOY_KEY\n/, ''));
    userError(await runCli(['validate', '--stack', 't'], { cwd: dir }), /deploy\.sshKeyEnv/, 'deploy: { sshKeyEnv: FLOTILLA_DEPLOY_KEY }');
  });
});

describe('preview --mock: one owner per record', () => {
  it('--json shows no Pulumi-managed serving record: DNS resources are ownership markers and apex NS only', async () => {
    const r = await runCli(['preview', '--mock', '--stack', 'example', '--json'], { env: { PATH: '/usr/bin:/bin' } });
    assert.equal(r.code, 0, r.stderr);
    const { resources } = JSON.parse(r.stdout) as { resources: { type: string; name: string; inputs: Record<string, unknown> }[] };
    const dns = resources.filter((x) => /dnsRecord|route53\/record|zoneRrset/.test(x.type));
    assert.ok(dns.length >= 10, 'markers and apex NS at three providers');
    for (const x of dns) assert.ok(x.inputs.type === 'NS' || (x.inputs.type === 'TXT' && /^_flotilla-/.test(String(x.inputs.name))), `${x.type} ${x.name}: ${x.inputs.type}`);
  });
});
