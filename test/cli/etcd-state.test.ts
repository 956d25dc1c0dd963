import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';
import { REPO, runCli } from '../support/run-cli.ts';

/** Two responders on different "machines" (project dirs) share overrides and the audit log through etcd. */
describe('state.kind etcd through the CLI', { timeout: 60_000 }, () => {
  let etcd: EtcdHandle;
  const stackFor = (endpoint: string) => `config:
  flotilla:fleet:
    site: { name: e, contentDir: ${join(REPO, 'site')} }
    domain: etcd.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.61 }
      - { name: m2, provider: local, ipv4: 127.0.0.62 }
    dnsProviders:
      - { name: embedded, kind: local }
    state: { kind: etcd, endpoints: [${endpoint}] }
`;
  const project = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-etcd-cli-'));
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    writeFileSync(join(dir, 'stacks', 'Pulumi.shared.yaml'), text);
    return dir;
  };
  before(async () => {
    etcd = await startEtcd();
  });
  after(() => etcd?.stop());

  it('a drain made from one project is seen, and undone, from another', async () => {
    const a = project(stackFor(etcd.endpoint));
    const b = project(stackFor(etcd.endpoint));
    const d = await runCli(['drain', 'm1', '--stack', 'shared', '--reason', 'disk full', '--for', '1h'], { cwd: a, env: { FLOTILLA_AUTHOR: 'ana' } });
    assert.equal(d.code, 0, d.stderr);
    const st = JSON.parse((await runCli(['status', '--stack', 'shared', '--json'], { cwd: b })).stdout);
    assert.deepEqual(st.overrides.map((o: { mirror: string; author: string }) => `${o.mirror} ${o.author}`), ['m1 ana']);
    assert.deepEqual(st.serving, ['m2']);
    assert.equal((await runCli(['undrain', 'm1', '--stack', 'shared'], { cwd: b, env: { FLOTILLA_AUTHOR: 'bo' } })).code, 0);
    const h = JSON.parse((await runCli(['history', '--stack', 'shared', '--json'], { cwd: a })).stdout);
    assert.deepEqual(h.events.map((e: { actor: string }) => e.actor), ['ana', 'bo']);
  });

  it('an etcd stack without endpoints, and an unreachable etcd, are clear errors', async () => {
    const none = project(stackFor('').replace('endpoints: []', 'endpoints: []'));
    const r = await runCli(['validate', '--stack', 'shared'], { cwd: none });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /state\.endpoints/);
    const down = project(stackFor('http://127.0.0.1:1'));
    const s = await runCli(['status', '--stack', 'shared'], { cwd: down });
    assert.equal(s.code, 1);
    assert.match(s.stderr, /unreachable.*127\.0\.0\.1:1/);
    assert.doesNotMatch(s.stderr, /\n\s+at /);
  });
});
