/**
 * The whole path with real processes: `flotilla daemon` (embedded DNS server) runs; `flotilla inventory refresh` in
 * another process reads the stack outputs from a stand-in `pulumi` on PATH and saves them; the daemon serves the
 * cloud host at its address without a restart, after `rise` probes there. Before that, the address Pulumi wrote for
 * the host it has not told us about is never removed.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { createDrivers } from '../../src/drivers/registry.ts';
import { markerRecord } from '../../src/planner/ownership.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { fakePulumi } from '../support/fake-pulumi.ts';
import { startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { freePort } from '../support/ports.ts';
import { BIN, REPO, runCli } from '../support/run-cli.ts';

const ZONE = 'inventory-daemon.test';
const RISE = 3;

describe('e2e: flotilla daemon + flotilla inventory refresh (stand-in pulumi)', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-inventory-daemon-'));
  const stateDir = join(dir, 'state');
  const stackFile = join(dir, 'stacks', 'Pulumi.inv.yaml');
  let mirrors: MirrorServer[] = [];
  let dnsPort = 0;
  let daemon: ChildProcess | undefined;
  let out = '';
  const pulumi = fakePulumi();

  const answer = async () => {
    const r = await queryDns({ server: `127.0.0.1:${dnsPort}`, name: ZONE, type: 'A', timeoutMs: 500 });
    return r.ok ? r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort() : [`error: ${r.error}`];
  };
  const waitFor = async (re: RegExp, ms = 30_000) => {
    const t0 = Date.now();
    while (!re.test(out)) {
      if (Date.now() - t0 > ms) assert.fail(`daemon never printed ${re}:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    const first = await startMirror({ host: '127.0.0.91', port: 0, contentDir: join(REPO, 'site') });
    mirrors = [first, ...(await Promise.all(['127.0.0.92', '127.0.0.93'].map((host) => startMirror({ host, port: first.port, contentDir: join(REPO, 'site') }))))];
    dnsPort = await freePort();
    writeFileSync(stackFile, `config:
  flotilla:fleet:
    site: { name: inv, contentDir: ${join(REPO, 'site')} }
    domain: ${ZONE}
    mirrors:
      - { name: box, provider: local, ipv4: 127.0.0.91 }
      - { name: cloud, provider: aws, region: eu-central-1 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${dnsPort} } }
    health: { interval: 250ms, timeout: 200ms, rise: ${RISE}, fall: 3, port: ${first.port} }
    policy: { ttl: 5, ownerId: inv, maxRemoveShare: 0.5 }
    state: { path: ${stateDir} }
    deploy: { sshKeyEnv: FLOTILLA_DEPLOY_KEY }
`);
    // what `pulumi up` wrote before: both hosts in the set, claimed by our marker
    const zones = join(stateDir, 'zones');
    await openZoneStore(zones).ensureZone(ZONE);
    const [driver] = await createDrivers([{ name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: dnsPort, zoneDir: zones } }], { env: {}, stateDir });
    await driver.applyChanges(ZONE, [
      { action: 'create', after: markerRecord(ZONE, 'A', 'inv', 5) },
      { action: 'create', after: { name: ZONE, type: 'A', ttl: 5, values: ['127.0.0.91', '127.0.0.92'] } },
    ]);
    await driver.close?.();
  });
  after(async () => {
    if (daemon) await stopChild(daemon);
    await Promise.all(mirrors.map((m) => m.stop()));
  });

  it('never removes the address of the host it does not know; serves the inventory address after rise probes, without a restart', async () => {
    daemon = spawnTracked(process.execPath, [BIN, 'daemon', '--config', stackFile, '--no-http'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout!.on('data', (d) => (out += d));
    daemon.stderr!.on('data', (d) => (out += d));
    await waitFor(/not provisioned \(no known address; not probed, not published\): cloud/);
    await waitFor(/kept 127\.0\.0\.92 at inventory-daemon\.test\/A: no known mirror has this address and cloud is not provisioned/);
    await waitFor(/decision.*serve box/);
    assert.deepEqual(await answer(), ['127.0.0.91', '127.0.0.92']);
    assert.equal(mirrors[1].requests + mirrors[2].requests, 0, 'nothing probed at a guessed address');

    // Pulumi says the cloud host is at .93 (the .92 host was replaced)
    pulumi.setOutputs(JSON.stringify({ siteDigest: 'd'.repeat(64), mirrors: { box: { provider: 'local', ipv4: '127.0.0.91' }, cloud: { provider: 'aws', ipv4: '127.0.0.93', resourceId: 'i-093' } } }));
    const r = await runCli(['inventory', 'refresh', '--config', stackFile], { cwd: dir, env: { PATH: pulumi.path } });
    assert.equal(r.code, 0, r.stderr);
    const t0 = Date.now();
    let seen: string[] = [];
    let probesAtNew = 0;
    for (;;) {
      seen = await answer();
      if (seen.includes('127.0.0.93')) { probesAtNew = mirrors[2].requests; break; }
      if (Date.now() - t0 > 20_000) assert.fail(`the daemon never served 127.0.0.93; it answers ${seen.join(' ')}\n${out}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    console.log(`# inventory refresh → served by the daemon: ${Date.now() - t0}ms, after ${probesAtNew} request(s) at the new host (rise ${RISE})`);
    assert.ok(probesAtNew >= RISE, `served after ${probesAtNew} probe(s) at the new host`);
    assert.deepEqual(seen, ['127.0.0.91', '127.0.0.93'], 'the replaced host left');
    assert.match(out, /inventory changed: cloud → 127\.0\.0\.93/);
    assert.equal(daemon.exitCode, null, 'the same daemon process, never restarted');
  });
});
