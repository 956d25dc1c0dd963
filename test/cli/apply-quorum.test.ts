/**
 * `flotilla apply` on an etcd stack decides like the daemons (decide.ts): the quorum of the live vantages' published
 * verdicts, and fail static with too few of them. Vantage keys are written under real etcd leases.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3, type Lease } from 'etcd3';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';
import { REPO, runCli } from '../support/run-cli.ts';

describe('flotilla apply with several vantages (real etcd)', { timeout: 60_000 }, () => {
  let etcd: EtcdHandle;
  let client: Etcd3;
  const leases: Lease[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-apply-quorum-'));
  const verdict = (state: string) => ({ m1: { state, successStreak: 0, failureStreak: 0, recentFlips: [] }, m2: { state: 'up', successStreak: 0, failureStreak: 0, recentFlips: [] } });
  const publish = async (vantage: string, m1: string) => {
    const lease = client.namespace('/flotilla/q/').lease(30);
    leases.push(lease);
    await lease.put(`vantages/${vantage}`).value(JSON.stringify({ vantage, at: Date.now(), health: verdict(m1) }));
    return lease;
  };

  before(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: [etcd.endpoint] });
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    writeFileSync(join(dir, 'stacks', 'Pulumi.q.yaml'), `config:
  flotilla:fleet:
    site: { name: q, contentDir: ${join(REPO, 'site')} }
    domain: quorum.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.61 }
      - { name: m2, provider: local, ipv4: 127.0.0.62 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { zoneDir: ${join(dir, 'zones')} } }
    health: { minVantages: 2 }
    state: { kind: etcd, endpoints: [${etcd.endpoint}] }
`);
  });
  after(async () => {
    await Promise.all(leases.map((l) => l.revoke().catch(() => undefined)));
    client?.close();
    await etcd?.stop();
  });

  it('one vantage of three calling m1 down is outvoted; two take it out', async () => {
    await publish('a', 'down');
    await publish('b', 'up');
    const c = await publish('c', 'up');
    const one = await runCli(['apply', '--stack', 'q', '--dry-run', '--json'], { cwd: dir });
    // (exit 1 here only because the dry run finds no zone at the embedded provider yet: nothing is created)
    assert.deepEqual(JSON.parse(one.stdout).serving, ['m1', 'm2']);
    await c.revoke();
    await publish('c2', 'down');
    const two = await runCli(['apply', '--stack', 'q', '--dry-run', '--json'], { cwd: dir });
    assert.deepEqual(JSON.parse(two.stdout).serving, ['m2']);
  });

  it('while a daemon leads the stack, apply refuses to be a second writer (exit 1, names drain/failover and --force); a dry run still shows the plan', async () => {
    await Promise.all(leases.splice(0).map((l) => l.revoke()));
    await publish('a', 'down');
    await publish('b', 'down');
    const lease = client.namespace('/flotilla/q/').lease(30);
    leases.push(lease);
    await lease.put('election/leader/7').value(JSON.stringify({ vantage: 'a', since: Date.UTC(2026, 11, 3, 6, 0) }));
    const zones = () => (existsSync(join(dir, 'zones')) ? readdirSync(join(dir, 'zones'), { recursive: true }).map(String).sort().map((f) => { const p = join(dir, 'zones', f); return statSync(p).isFile() ? `${f}:${readFileSync(p, 'utf8')}` : f; }).join('\n') : '(none)');
    const before = zones();
    const r = await runCli(['apply', '--stack', 'q'], { cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /vantage a leads this stack \(since 2026-12-03T06:00:00\.000Z\) and converges every provider to the same decision: `flotilla apply` would be a second writer beside it\. Change what is served with drain or failover .* --force/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(zones(), before, 'nothing written, not even the local zone');
    const dry = await runCli(['apply', '--stack', 'q', '--dry-run', '--json'], { cwd: dir });
    assert.deepEqual(JSON.parse(dry.stdout).serving, ['m2']);
    await lease.revoke();
  });

  it('too few live vantages: apply fails static (exit 1, names --force) and writes nothing', async () => {
    await Promise.all(leases.splice(0).map((l) => l.revoke()));
    await publish('a', 'down');
    const r = await runCli(['apply', '--stack', 'q'], { cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /fail static: only 1 live vantage\(s\), health.minVantages wants 2.*--force/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
