import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fakePulumi, type FakePulumi } from '../support/fake-pulumi.ts';
import { startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { REPO, runCli } from '../support/run-cli.ts';

const D = 'c'.repeat(64);

/**
 * `flotilla up` / `inventory` / `check` / `plan` / `status` on a copy of the example stack, with a stand-in `pulumi`
 * on PATH that prints recorded stack outputs. Every address is on loopback: the SSH box is moved to 127.0.0.71 and the
 * "cloud hosts" of the outputs are mirror servers on 127.0.0.72-73.
 */
describe('CLI: the mirror inventory from the Pulumi stack outputs', { timeout: 240_000 }, () => {
  let mirrors: MirrorServer[] = [];
  let pulumi: FakePulumi;
  let dir: string;
  const outputs = (aws: string | null, hetzner: string | null) => JSON.stringify({
    siteDigest: D,
    mirrors: {
      'aws-fra': { provider: 'aws', ipv4: aws, ipv6: null, resourceId: 'i-0123456789abcdef0', digest: D },
      'hetzner-nbg': { provider: 'hcloud', ipv4: hetzner, ipv6: hetzner ? '::1' : null, resourceId: hetzner ? '4711' : null, digest: D },
      'box-ams': { provider: 'ssh', ipv4: '127.0.0.71', ipv6: null, resourceId: null, digest: D },
    },
    serving: ['aws-fra', 'hetzner-nbg', 'box-ams'],
  });
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env: { PATH: pulumi.path, FLOTILLA_AUTHOR: 'ana' } });
  const stateFile = () => join(dir, '.flotilla', 'state', 'state.json');
  const stateText = () => { try { return readFileSync(stateFile(), 'utf8'); } catch { return '(none)'; } };
  const noTrace = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at |unexpected error/, stderr);

  before(async () => {
    const first = await startMirror({ host: '127.0.0.71', port: 0, contentDir: join(REPO, 'site') });
    mirrors = [first, ...(await Promise.all(['127.0.0.72', '127.0.0.73'].map((host) => startMirror({ host, port: first.port, contentDir: join(REPO, 'site') }))))];
    pulumi = fakePulumi();
    dir = mkdtempSync(join(tmpdir(), 'flotilla-inventory-cli-'));
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    symlinkSync(join(REPO, 'site'), join(dir, 'site'));
    const example = readFileSync(join(REPO, 'stacks', 'Pulumi.example.yaml'), 'utf8');
    const local = example.replace('ipv4: 203.0.113.10', 'ipv4: 127.0.0.71').replace(/(\n\s+)path: \/\n/, `$1path: /$1port: ${first.port}\n`);
    assert.notEqual(local, example);
    assert.match(local, new RegExp(`port: ${first.port}`));
    writeFileSync(join(dir, 'stacks', 'Pulumi.example.yaml'), local);
  });
  after(async () => {
    await Promise.all(mirrors.map((m) => m.stop()));
  });

  it('before any deploy: the cloud mirrors are not provisioned in inventory, check (never probed), plan and status', async () => {
    const inv = await cli('inventory', '--stack', 'example', '--json');
    assert.equal(inv.code, 0, inv.stderr);
    const rows = JSON.parse(inv.stdout).mirrors as { name: string; provisioned: boolean; ipv4?: string; source?: string }[];
    assert.deepEqual(rows.map((r) => [r.name, r.provisioned, r.ipv4 ?? '', r.source ?? '']), [['aws-fra', false, '', ''], ['hetzner-nbg', false, '', ''], ['box-ams', true, '127.0.0.71', 'stack-file']]);

    const check = await cli('check', '--stack', 'example');
    assert.equal(check.code, 1, check.stderr);
    assert.match(check.stdout, /aws-fra\s+not provisioned\s+SKIPPED\s+0ms\s+aws-fra is not provisioned \(no known address/);
    assert.match(check.stdout, /box-ams\s+127\.0\.0\.71\s+ok/);
    for (const m of mirrors.slice(1)) assert.equal(m.requests, 0, 'nothing is probed at a guessed address');

    const plan = await cli('plan', '--stack', 'example');
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /aws-fra\s+aws\s+not provisioned/);
    assert.match(plan.stdout, /note: hetzner-nbg is not provisioned/);
    assert.match(plan.stdout, /^serving: box-ams$/m);

    const status = await cli('status', '--stack', 'example');
    assert.match(status.stdout, /aws-fra\s+not provisioned\s+not provisioned\s+no/);
  });

  it('pulumi up failing: flotilla up exits with its code and leaves the inventory untouched (outputs never read)', async () => {
    const before = stateText();
    pulumi.setOutputs(outputs('127.0.0.72', null));
    pulumi.setUpExit(255);
    const r = await cli('up', '--stack', 'example', '--yes');
    assert.equal(r.code, 255, r.stderr);
    noTrace(r.stderr);
    assert.equal(stateText(), before);
    assert.deepEqual(pulumi.calls(), ['up --stack example --yes']);
  });

  it('malformed outputs after a successful up: a clear error (exit 2), the inventory untouched', async () => {
    const before = stateText();
    pulumi.setUpExit(0);
    pulumi.setOutputs(JSON.stringify({ mirrors: { 'aws-fra': { provider: 'aws', ipv4: 'ec2-1-2-3-4.compute.amazonaws.com' } } }));
    const r = await cli('up', '--stack', 'example', '--yes');
    assert.equal(r.code, 2, r.stderr);
    noTrace(r.stderr);
    assert.match(r.stderr, /pulumi stack output --json --stack example: 1 problem\(s\)\n\s+- mirrors\.aws-fra\.ipv4: expected an IPv4 address/);
    assert.equal(stateText(), before);

    pulumi.setOutputs('error: stack "example" has no outputs yet (not JSON)');
    const t = await cli('inventory', 'refresh', '--stack', 'example');
    assert.equal(t.code, 2, t.stderr);
    assert.match(t.stderr, /\(whole output\): expected the JSON of `pulumi stack output --json`/);
    assert.equal(stateText(), before);
  });

  it('a successful up saves the inventory from the outputs (read with --json --show-secrets), audited; inventory shows it', async () => {
    pulumi.setOutputs(outputs('127.0.0.72', null));
    const n = pulumi.calls().length;
    const r = await cli('up', '--stack', 'example', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(pulumi.calls().slice(n), ['up --stack example --yes', 'stack output --json --show-secrets --stack example']);
    assert.match(r.stderr, /mirror inventory saved: 3 mirror\(s\)/);
    const saved = JSON.parse(stateText()).inventory;
    assert.deepEqual(saved.mirrors['aws-fra'], { provider: 'aws', ipv4: '127.0.0.72', resourceId: 'i-0123456789abcdef0', digest: D, at: saved.updatedAt, source: 'pulumi' });
    assert.equal(saved.mirrors['hetzner-nbg'].ipv4, undefined);

    const shown = await cli('inventory', '--stack', 'example');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /aws-fra\s+aws\s+127\.0\.0\.72\s+i-0123456789abcdef0\s+cccccccccccc…\s+pulumi outputs/);
    assert.match(shown.stdout, /hetzner-nbg\s+hcloud\s+not provisioned/);
    const audit = readdirSync(join(dir, '.flotilla', 'state')).filter((f) => f.startsWith('audit')).map((f) => readFileSync(join(dir, '.flotilla', 'state', f), 'utf8')).join('');
    assert.match(audit, /"kind":"inventory".*aws-fra 127\.0\.0\.72; hetzner-nbg not provisioned/);

    const check = await cli('check', '--stack', 'example', '--json');
    const res = JSON.parse(check.stdout).results as { mirror: string; ok: boolean; address: string }[];
    assert.deepEqual(res.map((x) => [x.mirror, x.ok, x.address]), [['aws-fra', true, '127.0.0.72'], ['hetzner-nbg', false, 'not provisioned'], ['box-ams', true, '127.0.0.71']]);
    assert.equal(mirrors[2].requests, 0);
  });

  it('inventory refresh re-reads the outputs: a new host and its IPv6 (AAAA) appear in plan', async () => {
    pulumi.setOutputs(outputs('127.0.0.72', '127.0.0.73'));
    const r = await cli('inventory', 'refresh', '--stack', 'example', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout).mirrors as { name: string; ipv4?: string; ipv6?: string }[];
    assert.deepEqual(rows.map((x) => [x.name, x.ipv4, x.ipv6 ?? '']), [['aws-fra', '127.0.0.72', ''], ['hetzner-nbg', '127.0.0.73', '::1'], ['box-ams', '127.0.0.71', '']]);
    const plan = await cli('plan', '--stack', 'example', '--json');
    const p = JSON.parse(plan.stdout);
    assert.deepEqual(p.serving, ['aws-fra', 'hetzner-nbg', 'box-ams']);
    const zone = p.providers[0].zones[0].desired as { name: string; type: string; values: string[] }[];
    assert.deepEqual(zone.find((x) => x.name === 'example.org' && x.type === 'A')?.values, ['127.0.0.71', '127.0.0.72', '127.0.0.73']);
    assert.deepEqual(zone.find((x) => x.name === 'example.org' && x.type === 'AAAA')?.values, ['::1']);
  });

  it('plan and status say why an address no known mirror has is kept while a mirror is not provisioned', async () => {
    pulumi.setOutputs(outputs('127.0.0.72', null));
    assert.equal((await cli('inventory', 'refresh', '--stack', 'example')).code, 0);
    // what the state says cloudflare holds: Pulumi's set, with an address of the host not yet in the inventory
    const st = JSON.parse(stateText());
    st.providers = { cloudflare: { records: { 'example.org': [
      { name: '_flotilla-a.example.org', type: 'TXT', ttl: 60, values: ['heritage=flotilla,owner=flotilla-example'] },
      { name: 'example.org', type: 'A', ttl: 60, values: ['127.0.0.71', '127.0.0.72', '198.51.100.99'] },
    ] } } };
    writeFileSync(stateFile(), JSON.stringify(st));
    const plan = await cli('plan', '--stack', 'example');
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /kept \(removal refused\): kept 198\.51\.100\.99 at example\.org\/A: no known mirror has this address and hetzner-nbg is not provisioned/);
    assert.doesNotMatch(plan.stdout.split('route53 (route53)')[0], /update example\.org A/);
    const status = await cli('status', '--stack', 'example');
    assert.match(status.stdout, /removal refused at cloudflare: example\.org: kept 198\.51\.100\.99/);
  });

  it('destroy: a failed one leaves the inventory and says the hosts may be gone; a successful one clears it, and the released addresses are no longer kept', async () => {
    // the state of the test before: cloudflare holds 127.0.0.72 (aws-fra) and 198.51.100.99 (nobody known's)
    pulumi.setDestroyExit(1);
    const before = stateText();
    const failed = await cli('destroy', '--stack', 'example', '--yes');
    assert.equal(failed.code, 1, failed.stderr);
    noTrace(failed.stderr);
    assert.match(failed.stderr, /pulumi destroy failed \(exit 1\): the saved inventory is unchanged, but some hosts may be gone/);
    assert.equal(stateText(), before);

    pulumi.setDestroyExit(0);
    pulumi.setOutputs('{}');
    const n = pulumi.calls().length;
    const r = await cli('destroy', '--stack', 'example', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(pulumi.calls().slice(n), ['destroy --stack example --yes', 'stack output --json --show-secrets --stack example']);
    assert.match(r.stderr, /mirror inventory cleared/);
    const saved = JSON.parse(stateText()).inventory;
    assert.deepEqual(saved.mirrors, {});
    assert.equal(typeof saved.destroyedAt, 'number');
    const audit = readdirSync(join(dir, '.flotilla', 'state')).filter((f) => f.startsWith('audit')).map((f) => readFileSync(join(dir, '.flotilla', 'state', f), 'utf8')).join('');
    assert.match(audit, /"kind":"inventory".*after a destroy \(its hosts are gone\): aws-fra not provisioned; hetzner-nbg not provisioned; box-ams 127\.0\.0\.71/);

    // aws-fra's released address and the stranger go: only the box the stack file names is left
    const plan = await cli('plan', '--stack', 'example', '--json');
    assert.equal(plan.code, 0, plan.stderr);
    const cf = JSON.parse(plan.stdout).providers.find((p: { provider: string }) => p.provider === 'cloudflare').zones[0];
    const change = cf.changes.find((c: { after?: { name: string; type: string } }) => c.after?.name === 'example.org' && c.after.type === 'A');
    assert.deepEqual([change?.action, change?.after.values], ['update', ['127.0.0.71']], JSON.stringify(cf));
    assert.deepEqual(cf.kept ?? [], []);

    // the next deploy's outputs are an inventory like any other
    pulumi.setOutputs(outputs('127.0.0.72', null));
    assert.equal((await cli('inventory', 'refresh', '--stack', 'example')).code, 0);
    assert.equal(JSON.parse(stateText()).inventory.destroyedAt, undefined);
  });

  it('an unknown action is a usage error', async () => {
    const r = await cli('inventory', 'reload', '--stack', 'example');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown action "reload"; expected `refresh`/);
  });
});
