import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, REPO, runCli, type CliResult } from '../support/run-cli.ts';

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

/**
 * The CLI as a user without the right to read other people's files. Tests run as root here, and root reads a
 * mode-000 file: drop the two capabilities that let it (setpriv, util-linux) so the read fails as it would for them.
 */
function runUnprivileged(args: string[], cwd: string): Promise<CliResult> {
  const root = process.getuid?.() === 0;
  const [cmd, argv] = root ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-all', process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv as string[], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
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

  it('a malformed IPv6 address is refused by validate and plan alike (path and what was expected)', async () => {
    const dir = project((y) => y.replace('{ name: local-b, provider: local, ipv4: 127.0.0.12 }', '{ name: local-b, provider: local, ipv6: "1:2:3:4:5:6:7:8::9" }'));
    for (const cmd of ['validate', 'plan']) assertUserError(await runCli([cmd, '--stack', 't'], { cwd: dir }), 'flotilla:fleet.mirrors[1].ipv6', 'expected an IPv6 address', '1:2:3:4:5:6:7:8::9');
  });

  it('values no timer, socket or resolver can take are refused: huge durations, TTL, canary ports and targets', async () => {
    const dir = project((y) =>
      y.replace('interval: 250ms', 'interval: 25d').replace('ttl: 5', 'ttl: 4294967296').replace('- target: 127.0.0.1:5353', '- target: 127.0.0.1:99999\n      - target: "::::"\n      - target: "http://[::1"'),
    );
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: dir }), 'health.interval', 'policy.ttl', 'canaries[0].target', 'canaries[1].target', 'canaries[2].target');
  });

  it('a secret pasted into tokenEnv is refused and never printed', async () => {
    const secret = 'ghp_R2d2C3poBB8Luke0Leia1Han2Solo3Chewie';
    const dir = project((y) => y.replace('    server:\n', `    server:\n      tokenEnv: ${secret}\n`));
    const r = await runCli(['validate', '--stack', 't'], { cwd: dir });
    assertUserError(r, 'flotilla:fleet.server.tokenEnv', 'NAME of an environment variable');
    assert.ok(!(r.stderr + r.stdout).includes(secret.slice(4)), r.stderr);
  });

  it('weight, never honoured by the planner, is refused with what to do instead', async () => {
    const dir = project((y) => y.replace('{ name: local-a, provider: local, ipv4: 127.0.0.11 }', '{ name: local-a, provider: local, ipv4: 127.0.0.11, weight: 3 }'));
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: dir }), 'flotilla:fleet.mirrors[0].weight', 'is no longer read');
  });

  it('an alias bomb and an unresolved alias are clear errors naming the file', async () => {
    const levels = ['  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 12; i++) levels.push(`  l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
    const bomb = project((y) => y.replace('config:\n', `config:\n${levels.join('\n')}\n`));
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: bomb, timeoutMs: 20_000 }), 'alias bomb');
    const dangling = project((y) => y.replace('      rise: 2', '      rise: *two'));
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: dangling }), 'line ', 'alias *two names no anchor');
  });

  it('an unreadable file in contentDir is a clear error naming it', async () => {
    const dir = project((y) => y);
    writeFileSync(join(dir, 'site', 'secret.html'), 'x');
    chmodSync(join(dir, 'site', 'secret.html'), 0o000);
    assertUserError(await runUnprivileged(['validate', '--stack', 't'], dir), 'flotilla:fleet.site.contentDir', 'secret.html', 'permission denied');
  });

  it('contentDir: / and a link out of the site are refused with exit 2, naming the path and the link', async () => {
    const root = project((y) => y.replace('contentDir: site', 'contentDir: /'));
    const r = await runCli(['validate', '--stack', 't'], { cwd: root });
    assertUserError(r, 'flotilla:fleet.site.contentDir', '/ is a system directory, not a site');
    assert.ok(!r.stderr.includes('cannot read'), `worded as an unreadable file:\n${r.stderr}`);
    const link = project((y) => y);
    symlinkSync('/etc/hostname', join(link, 'site', 'host.txt'));
    assertUserError(await runCli(['validate', '--stack', 't'], { cwd: link }), 'flotilla:fleet.site.contentDir', 'host.txt points outside the site');
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
