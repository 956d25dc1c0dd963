import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO, runCli } from '../support/run-cli.ts';

/** A project dir holding a copy of the local stack with one edit applied. */
function project(edit: (yaml: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-validate-'));
  mkdirSync(join(dir, 'stacks'));
  mkdirSync(join(dir, 'site'));
  writeFileSync(join(dir, 'site', 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
  writeFileSync(join(dir, 'stacks', 'Pulumi.t.yaml'), edit(readFileSync(join(REPO, 'stacks', 'Pulumi.local.yaml'), 'utf8')));
  return dir;
}

function assertUserError(r: { code: number; stderr: string }, ...needles: string[]) {
  assert.equal(r.code, 2, `exit code\n${r.stderr}`);
  for (const n of needles) assert.ok(r.stderr.includes(n), `stderr lacks ${JSON.stringify(n)}:\n${r.stderr}`);
  assert.ok(!/\n\s+at .*\(.*:\d+:\d+\)/.test(r.stderr), `stack trace printed:\n${r.stderr}`);
  assert.ok(r.stderr.includes('Pulumi.t.yaml'), 'names the file');
}

describe('flotilla validate', () => {
  it('accepts the shipped stacks', async () => {
    for (const stack of ['local', 'example']) {
      const r = await runCli(['validate', '--stack', stack]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /: ok/);
    }
    const j = await runCli(['validate', '--stack', 'local', '--json']);
    assert.equal(JSON.parse(j.stdout).ok, true);
  });

  it('a wrong provider name names the path and the allowed values', async () => {
    const dir = project((y) => y.replace('{ name: local-b, provider: local,', '{ name: local-b, provider: digitalocean,'));
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: dir }), 'flotilla:fleet.mirrors[1].provider', '"aws"', 'digitalocean');
  });

  it('a negative duration is refused with the path', async () => {
    const dir = project((y) => y.replace('interval: 250ms', 'interval: -250ms'));
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: dir }), 'flotilla:fleet.health.interval', 'duration');
  });

  it('a missing content directory is refused with the path', async () => {
    const dir = project((y) => y.replace('contentDir: site', 'contentDir: no-such-dir'));
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: dir }), 'flotilla:fleet.site.contentDir', 'no-such-dir');
  });

  it('an unknown key (a typo) is refused with the path', async () => {
    const dir = project((y) => y.replace('      rise: 2', '      rsie: 2'));
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: dir }), 'flotilla:fleet.health.rsie', 'unknown key');
  });

  it('reports every problem at once', async () => {
    const dir = project((y) => y.replace('      rise: 2', '      rsie: 2').replace('interval: 250ms', 'interval: soon').replace('ttl: 5', 'ttl: -5'));
    const r = await runCli(['validate', '--stack', 't'], { cwd: dir });
    assertUserError(r, 'health.rsie', 'health.interval', 'policy.ttl');
  });

  it('a plain-text secret and a bad driver setting are refused', async () => {
    const dir = project((y) => y.replace('tsigSecretEnv: FLOTILLA_LOCAL_TSIG_SECRET', 'tsigSecretEnv: FLOTILLA_LOCAL_TSIG_SECRET\n          apiToken: hunter2').replace('port: 5353 }', 'port: 99999 }'));
    const r = await runCli(['validate', '--stack', 't'], { cwd: dir });
    assertUserError(r, 'dnsProviders[1].settings.apiToken', 'dnsProviders[0].settings.port');
    assert.ok(!r.stderr.includes('hunter2'));
  });

  it('a missing stack file and broken YAML are clear errors', async () => {
    const r = await runCli(['validate', '--stack', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /stack file not found.*local/);
    const dir = project((y) => y + '\n  bad: [unclosed\n');
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: dir }), 'line', 'not valid YAML');
  });

  it('validate without a stack is a usage error', async () => {
    const r = await runCli(['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--stack/);
  });
});

describe('flotilla validate / plan: provider TTL floors', () => {
  /** A copy of the example stack (Cloudflare, Route 53, Hetzner) with policy.ttl 30. */
  function example30(): string {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-ttl-floor-'));
    mkdirSync(join(dir, 'stacks'));
    mkdirSync(join(dir, 'site'));
    writeFileSync(join(dir, 'site', 'index.html'), '<h1>hi</h1>');
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    const y = readFileSync(join(REPO, 'stacks', 'Pulumi.example.yaml'), 'utf8');
    assert.ok(y.includes('ttl: 60'));
    writeFileSync(join(dir, 'stacks', 'Pulumi.t.yaml'), y.replace('ttl: 60', 'ttl: 30'));
    return dir;
  }
  const floorNotes = ["cloudflare: ttl 30 raised to 60, the provider's floor", "hetzner: ttl 30 raised to 60, the provider's floor"];

  it('validate says where policy.ttl is raised to a provider floor (and not at Route 53, whose floor is lower)', async () => {
    const dir = example30();
    const r = await runCli(['validate', '--stack', 't'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    for (const n of floorNotes) assert.ok(r.stdout.includes(`note: ${n}`), r.stdout);
    assert.ok(!/route53: ttl/.test(r.stdout), r.stdout);
    const j = JSON.parse((await runCli(['validate', '--stack', 't', '--json'], { cwd: dir })).stdout);
    assert.deepEqual(j.notes, floorNotes);
  });

  it('plan shows the raised TTL per provider, the note, and the worst-case TTL in the failover time', async () => {
    const dir = example30();
    const r = await runCli(['plan', '--stack', 't', '--json'], { cwd: dir, env: { FLOTILLA_STATE_DIR: undefined } });
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    const ttls = Object.fromEntries(plan.providers.map((p: { provider: string; zones: { desired: { ttl: number }[] }[] }) => [p.provider, [...new Set(p.zones.flatMap((z) => z.desired.map((x) => x.ttl)))]]));
    assert.deepEqual(ttls, { cloudflare: [60], route53: [30], hetzner: [60] });
    for (const n of floorNotes) assert.ok(plan.notes.includes(n), JSON.stringify(plan.notes));
    assert.equal(plan.failover.ttlSeconds, 60);
    const text = await runCli(['plan', '--stack', 't'], { cwd: dir, env: { FLOTILLA_STATE_DIR: undefined } });
    for (const n of floorNotes) assert.ok(text.stdout.includes(`note: ${n}`), text.stdout);
  });
});

describe('flotilla plan / up', () => {
  it('plan --json lists desired records and changes for every provider', async () => {
    const r = await runCli(['plan', '--stack', 'local', '--json'], { env: { FLOTILLA_STATE_DIR: undefined } });
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.deepEqual(plan.providers.map((p: { provider: string }) => p.provider), ['embedded', 'bind', 'pdns']);
    const a = plan.providers[0].zones[0].desired.find((x: { name: string; type: string }) => x.name === 'flotilla.test' && x.type === 'A');
    assert.ok(a.values.length >= 1);
    assert.match(plan.failover.explanation, /TTL/);
  });

  it('up without pulumi on PATH fails with a clear paragraph', async () => {
    const r = await runCli(['up', '--stack', 'example'], { env: { PATH: '/nonexistent' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Pulumi CLI \(`pulumi`\) is not on PATH/);
    assert.match(r.stderr, /preview --mock/);
    assert.ok(!/\n\s+at /.test(r.stderr));
  });

  it('preview --mock --stack example --json lists the resources of every kind, with no cloud account and no pulumi', async () => {
    const r = await runCli(['preview', '--mock', '--stack', 'example', '--json'], { env: { PATH: '/usr/bin:/bin', FLOTILLA_SSH_KEY: 'not-a-real-key' } });
    assert.equal(r.code, 0, r.stderr);
    const types = new Set(JSON.parse(r.stdout).resources.map((x: { type: string }) => x.type));
    for (const t of ['aws:ec2/instance:Instance', 'hcloud:index/server:Server', 'cloudflare:index/dnsRecord:DnsRecord', 'aws:route53/record:Record'])
      assert.ok(types.has(t), `missing ${t}`);
    assert.ok(!r.stdout.includes('not-a-real-key'), 'the SSH key leaked into the preview');
  });

  it('every command has --help with an example', async () => {
    for (const cmd of ['validate', 'plan', 'apply', 'preview', 'up', 'destroy', 'check', 'daemon', 'status', 'drain', 'undrain', 'failover', 'clear', 'history', 'records', 'demo']) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, /Example/, cmd);
    }
  });
});
