/**
 * Three `flotilla daemon` processes (vantages v1, v2, v3, probing from 127.0.2.1-3) on a real 3-member etcd cluster, writing a real BIND9
 * over RFC 2136 + TSIG, probing three real mirrors (interval 250 ms, fall 3), leases of 2 s, quorum: a majority,
 * health.minVantages 2. Every assertion is on BIND's answers, the daemons' own status (/api/status) and the shared
 * audit log in etcd:
 * - one vantage cut off from one mirror by a real packet filter (an iptables DROP from its probe address to that
 *   mirror's port): the mirror stays in the answer; cut off from a majority of vantages, it leaves;
 * - the leader SIGKILLed together with a mirror: another is elected and converges BIND within the lease time;
 * - the leader SIGSTOPped longer than its lease, then SIGCONTed: after its deposition nothing it does reaches BIND
 *   or the audit log as an apply;
 * - one etcd member down: failover still happens; two down: every controller fails static, says why, and resumes
 *   when the quorum is back.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { queryDns } from '../../src/dns/dns-client.ts';
import { EtcdStateStore } from '../../src/state/etcd-state-store.ts';
import { startBind, type DnsServerHandle } from '../support/bind-server.ts';
import { running, spawnTracked, stopChild } from '../support/child-processes.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { dropPath, iptablesUnavailable, type DropRule } from '../support/iptables-drop.ts';
import { startEtcdCluster, type EtcdCluster } from '../support/etcd-cluster.ts';
import { startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { freePort } from '../support/ports.ts';
import { BIN, REPO, runCli } from '../support/run-cli.ts';

const ZONE = 'cluster.test';
const IPS = ['127.0.0.71', '127.0.0.72', '127.0.0.73'];
const VANTAGES = ['v1', 'v2', 'v3'];
const LEASE_MS = 2000;

interface Snap { vantage: string; leader?: { vantage: string; since: number }; failStatic?: string; vantages: { name: string; live: boolean; verdicts: Record<string, string> }[] }

describe('three controllers on a 3-member etcd (real BIND, real mirrors)', { timeout: 240_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-cluster-'));
  const contentDir = join(REPO, 'site');
  const mirrors: MirrorServer[] = [];
  let etcd: EtcdCluster;
  let bind: DnsServerHandle;
  let audit: EtcdStateStore;
  const ports: number[] = [];
  const daemons = new Map<string, { child: ChildProcess; out: () => string }>();

  const t0 = Date.now();
  const note = (s: string) => console.log(`# [${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);

  before(async () => {
    ensurePackages({ named: 'bind9', etcd: 'etcd-server' });
    [etcd, bind] = await Promise.all([startEtcdCluster(), startBind({ zones: [ZONE] })]);
    for (const host of IPS) mirrors.push(await startMirror({ host, port: 0, contentDir }));
    audit = new EtcdStateStore({ endpoints: etcd.endpoints, prefix: '/flotilla/cluster/' });
    for (const [i] of VANTAGES.entries()) {
      ports.push(await freePort());
      const dir = join(root, `p${i + 1}`);
      mkdirSync(join(dir, 'stacks'), { recursive: true });
      writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
      writeFileSync(join(dir, 'stacks', 'Pulumi.cluster.yaml'), `config:
  flotilla:fleet:
    site: { name: cluster, contentDir: ${contentDir} }
    domain: ${ZONE}
    mirrors:
${IPS.map((ip, j) => `      - { name: m${j + 1}, provider: local, ipv4: ${ip}, health: { port: ${mirrors[j].port} } }`).join('\n')}
    dnsProviders:
      - { name: bind, kind: rfc2136, settings: { server: "${bind.address}", tsigKeyName: ${bind.keyName}, tsigSecretEnv: CLUSTER_TSIG } }
    health: { interval: 250ms, timeout: 200ms, rise: 2, fall: 3, minVantages: 2 }
    policy: { ttl: 5, ownerId: cluster }
    state: { kind: etcd, endpoints: [${etcd.endpoints.join(', ')}], lease: ${LEASE_MS / 1000}s }
    server: { listen: 127.0.0.1, port: ${ports[i]} }
`);
    }
    VANTAGES.forEach((v) => startDaemon(v));
  });

  after(async () => {
    await Promise.all([...daemons.values()].map((d) => stopChild(d.child, { graceMs: 2000 })));
    await Promise.all(mirrors.map((m) => m.stop()));
    await bind?.stop();
    await etcd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  function startDaemon(vantage: string): void {
    const i = VANTAGES.indexOf(vantage);
    const child = spawnTracked(process.execPath, [BIN, 'daemon', '--stack', 'cluster', '--vantage', vantage, '--probe-from', `127.0.2.${i + 1}`], { cwd: join(root, `p${i + 1}`), env: { ...process.env, CLUSTER_TSIG: bind.secret }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    daemons.set(vantage, { child, out: () => out });
  }
  const logs = () => [...daemons.entries()].map(([v, d]) => `--- ${v}\n${d.out().split('\n').slice(-40).join('\n')}`).join('\n');

  async function status(vantage: string): Promise<Snap | undefined> {
    try {
      const r = await fetch(`http://127.0.0.1:${ports[VANTAGES.indexOf(vantage)]}/api/status`, { signal: AbortSignal.timeout(1000) });
      return r.ok ? ((await r.json()) as Snap) : undefined;
    } catch {
      return undefined;
    }
  }
  async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
    const start = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - start > ms) assert.fail(`timed out (${ms} ms) waiting for ${what}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  /** The vantage that says it leads, once every other running daemon agrees. */
  async function leader(except?: string): Promise<string> {
    return waitFor('one leader every running daemon agrees on', async () => {
      const running_ = [...daemons.entries()].filter(([v, d]) => v !== except && running(d.child)).map(([v]) => v);
      const snaps = await Promise.all(running_.map(status));
      const l = snaps[0]?.leader?.vantage;
      return l && l !== except && snaps.every((s) => s?.leader?.vantage === l) ? l : undefined;
    });
  }
  const answer = async (): Promise<string[]> => {
    const r = await queryDns({ server: bind.address, name: ZONE, type: 'A', timeoutMs: 300 });
    return r.ok ? r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort() : [`error: ${r.error}`];
  };
  const until = (want: string[], what: string, ms = 15_000) => waitFor(`BIND ${what} (${want.join(',')})`, async () => (await answer()).join(',') === want.join(','), ms);
  const applies = async (since: number, vantage: string): Promise<AuditEvent[]> =>
    (await audit.audit(since)).filter((e) => e.kind === 'apply' && e.actor === `vantage ${vantage}`);

  it('every vantage is live, one leader writes, BIND serves every mirror', async () => {
    await until(IPS, 'serves every mirror', 60_000);
    const l = await leader();
    await waitFor('every daemon sees 3 live vantages', async () => (await Promise.all(VANTAGES.map(status))).every((s) => s?.vantages.filter((v) => v.live).length === 3));
    const events = await audit.audit(0);
    const writers = new Set(events.filter((e) => e.kind === 'apply').map((e) => e.actor));
    assert.deepEqual([...writers], [`vantage ${l}`], 'only the leader applied');
    // `flotilla status` (another process, reading etcd): the vantages with their verdicts, the leader and since when
    // each vantage publishes its verdict on m1 when its own rise completes, which may come after BIND serves it
    type StatusJson = { vantages: { name: string; live: boolean; verdicts: Record<string, string> }[]; leader: { vantage: string; since: number } };
    const read = async () => JSON.parse((await runCli(['status', '--stack', 'cluster', '--json'], { cwd: join(root, 'p1'), env: { CLUSTER_TSIG: bind.secret } })).stdout) as StatusJson;
    const j = await waitFor('flotilla status: every vantage live and calling m1 up', async () => {
      const s = await read();
      return s.vantages.every((v) => v.live && v.verdicts.m1 === 'up') ? s : undefined;
    });
    assert.deepEqual(j.vantages.map((v) => [v.name, v.live, v.verdicts.m1]), VANTAGES.map((v) => [v, true, 'up']));
    assert.equal(j.leader.vantage, l);
    assert.ok(j.leader.since > t0 && j.leader.since <= Date.now());
    const text = await runCli(['status', '--stack', 'cluster'], { cwd: join(root, 'p1'), env: { CLUSTER_TSIG: bind.secret } });
    assert.match(text.stdout, new RegExp(`leader: ${l} since `));
    note(`leader ${l}`);
  });

  it('one vantage cut off from one mirror by an iptables DROP: the mirror stays in; cut off from a majority, it leaves', async (t) => {
    // like BIND and etcd, the packet filter is installed when missing; a machine that cannot have it fails here
    const why = iptablesUnavailable();
    if (why) assert.fail(`the cut-off needs iptables: ${why}`);
    await until(IPS, 'serves every mirror before the cut');
    const m2 = { to: IPS[1], port: mirrors[1].port };
    const rules: DropRule[] = [];
    // removed when the test ends or fails (and at process exit by the helper): a leaked rule must never survive
    t.after(() => { for (const r of rules) r.remove(); });
    const verdict = async (vantage: string) => (await status(vantage))?.vantages.find((v) => v.name === vantage)?.verdicts.m2;
    await waitFor('every vantage calls m2 up', async () => (await Promise.all(VANTAGES.map(verdict))).every((s) => s === 'up'));
    // v2 probes from 127.0.2.2: its SYNs to m2 go nowhere, like a broken path between that vantage and that mirror
    rules.push(dropPath({ from: '127.0.2.2', ...m2 }));
    const cutAt = Date.now();
    await waitFor('v2 calls m2 down', async () => (await verdict('v2')) === 'down', 10_000);
    note(`v2 cut off from m2 (iptables DROP): v2 calls it down ${Date.now() - cutAt} ms later`);
    // the other two still see it up, and a majority is needed: BIND keeps m2 for several detection windows
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      assert.deepEqual(await answer(), IPS, `BIND dropped m2 although only v2 is cut off from it\n${logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.deepEqual(await Promise.all(VANTAGES.map(verdict)), ['up', 'down', 'up'], 'v2 alone calls m2 down');
    // v3 (127.0.2.3) cut off too: two of three live vantages call it down, a majority: m2 leaves the answer
    rules.push(dropPath({ from: '127.0.2.3', ...m2 }));
    const majorityAt = Date.now();
    await until([IPS[0], IPS[2]], 'dropped m2 once a majority is cut off from it', 15_000);
    note(`v3 cut off from m2 too: m2 gone at BIND ${Date.now() - majorityAt} ms later`);
    for (const r of rules.splice(0)) {
      r.remove();
      assert.equal(r.present(), false, `rule ${r.spec.join(' ')} still present`);
    }
    await until(IPS, 'took m2 back once the paths are open again');
    await waitFor('every vantage calls m2 up again', async () => (await Promise.all(VANTAGES.map(verdict))).every((s) => s === 'up'));
  });

  it('the leader SIGKILLed: a new leader is elected and converges BIND within the lease time', async () => {
    const old = await leader();
    const d = daemons.get(old)!;
    d.child.kill('SIGKILL');
    const killedAt = Date.now();
    // the mirror dies with the leader: only a new leader can take it out
    await mirrors[0].stop();
    await until([IPS[1], IPS[2]], 'dropped m1 after the leader died', 15_000);
    const ms = Date.now() - killedAt;
    const next = await leader(old);
    note(`leader ${old} SIGKILLed, m1 stopped with it; ${next} leads; BIND without m1 ${ms} ms after the kill`);
    // elected when the dead leader's lease runs out (≤ 2 s), then one pass; generous for a loaded 2-core machine
    assert.ok(ms < LEASE_MS + 3000, `BIND converged ${ms} ms after the leader was killed (lease ${LEASE_MS} ms)`);
    assert.ok((await applies(killedAt, next)).length > 0, `${next} wrote the change`);
    // the new leader converges what changes next, too
    mirrors[0] = await startMirror({ host: IPS[0], port: mirrors[0].port, contentDir });
    await until(IPS, 'took m1 back under the new leader');
    startDaemon(old);
    await waitFor('three live vantages again', async () => (await status(next))?.vantages.filter((v) => v.live).length === 3, 30_000);
  });

  it('the leader SIGSTOPped past its lease, then SIGCONTed: nothing it does after its deposition is written', async () => {
    const old = await leader();
    const d = daemons.get(old)!;
    const seen = d.out().length;
    // stop it right after it decided, while its pass is in flight (list, plan, fence, write)
    await mirrors[1].stop();
    await waitFor(`${old} deciding without m2`, () => /decision: serve m1, m3/.test(d.out().slice(seen)), 10_000);
    d.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const next = await leader(old);
    note(`${old} SIGSTOPped; ${next} elected ${Date.now() - stoppedAt} ms later`);
    await until([IPS[0], IPS[2]], 'dropped m2 under the new leader');
    // the world moves on while the old leader sleeps: m2 is back
    mirrors[1] = await startMirror({ host: IPS[1], port: mirrors[1].port, contentDir });
    await until(IPS, 'took m2 back under the new leader');
    const contAt = Date.now();
    d.child.kill('SIGCONT');
    // watch BIND while the old leader wakes up: whatever it had in flight (drop m2) must not land
    const end = Date.now() + 3 * LEASE_MS;
    let changedTo: string[] | undefined;
    while (Date.now() < end) {
      const a = await answer();
      if (!isDeepStrictEqual(a, IPS)) changedTo ??= a;
      await new Promise((r) => setTimeout(r, 20));
    }
    // the quorum may move on meanwhile (the woken vantage forgets the verdicts it held before the pause, but a probe
    // timing out on a loaded machine is a verdict too): then the change must be another daemon's audited apply
    if (changedTo) {
      const byOthers = (await Promise.all(VANTAGES.filter((v) => v !== old).map((v) => applies(contAt, v)))).flat();
      assert.ok(byOthers.length > 0, `BIND changed to ${changedTo.join(', ')} after ${old} woke up, and no other daemon applied it\n${logs()}`);
      note(`BIND changed to ${changedTo.join(', ')} after ${old} woke up, by ${[...new Set(byOthers.map((e) => e.actor))].join(', ')} (quorum)`);
    }
    // a write sent just before the stop is reported (audited) only after the wake-up: what must not exist is a
    // write by a pass that began after it (the pass's start is the event's time minus its duration)
    const late = (await applies(contAt, old)).filter((e) => e.at - Number(e.data?.ms ?? 0) >= contAt);
    assert.deepEqual(late, [], `${old} applied after its deposition`);
    const wake = d.out().slice(seen);
    note(`${old} after SIGCONT: ${/refused: .*no longer the leader/.test(wake) ? 'a write was refused by the fence' : 'nothing in flight reached the fence'}; ${/no longer the leader/.test(wake) ? 'knows it was deposed' : ''}`);
    assert.match(wake, /no longer the leader/, 'the woken daemon learns it was deposed');
    await waitFor('three live vantages again', async () => (await status(next))?.vantages.filter((v) => v.live).length === 3, 30_000);
  });

  it('one etcd member down: failover still happens', async () => {
    await etcd.kill(0);
    await mirrors[2].stop();
    const t = Date.now();
    await until([IPS[0], IPS[1]], 'dropped m3 with one etcd member down', 15_000);
    note(`one etcd member down: m3 gone at BIND ${Date.now() - t} ms after its kill`);
    mirrors[2] = await startMirror({ host: IPS[2], port: mirrors[2].port, contentDir });
    await until(IPS, 'took m3 back with one etcd member down');
    await etcd.restart(0);
  });

  it('two etcd members down: every controller fails static and says why; it resumes when the quorum is back', async () => {
    await until(IPS, 'serves every mirror before the etcd quorum is lost');
    await etcd.kill(1);
    await etcd.kill(2);
    const down = Date.now();
    const why = await waitFor('every daemon failing static', async () => {
      const snaps = await Promise.all(VANTAGES.map(status));
      return snaps.every((s) => s?.failStatic) ? snaps.map((s) => `${s!.vantage}: ${s!.failStatic}`) : undefined;
    }, 20_000);
    note(`two etcd members down: fail static after ${Date.now() - down} ms: ${why.join(' | ')}`);
    // each says why: its own lease lost / etcd unreachable, or (a vantage whose lease has not expired yet) that the
    // others' verdicts stopped counting
    for (const w of why) assert.match(w, /etcd unreachable|lease .* was lost|only 1 live vantage\(s\)/);
    const cli = await runCli(['status', '--stack', 'cluster'], { cwd: join(root, 'p1'), env: { CLUSTER_TSIG: bind.secret } });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /FAIL STATIC: etcd unreachable .*every controller fails static/);
    // a mirror dies meanwhile: nobody writes. What BIND holds now is what it must keep: a probe timing out on a
    // loaded machine may have made a quorum take a mirror out just before the quorum of etcd was lost
    const held = await answer();
    const at = Date.now();
    await mirrors[0].stop();
    const end = Date.now() + 3000; // four detection windows (fall 3 × 250 ms)
    while (Date.now() < end) {
      assert.deepEqual(await answer(), held, `BIND changed without an etcd quorum\n${logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await etcd.restart(1, { waitHealthy: false });
    await etcd.waitHealthy(0);
    const back = Date.now();
    await until([IPS[1], IPS[2]], 'dropped m1 once the etcd quorum was back', 30_000);
    note(`quorum back: m1 gone at BIND ${Date.now() - back} ms later`);
    const events = (await audit.audit(at)).filter((e) => e.kind === 'apply' && e.at < back);
    assert.deepEqual(events, [], 'an apply was audited while etcd had no quorum');
    await waitFor('fail static over everywhere', async () => (await Promise.all(VANTAGES.map(status))).every((s) => s && !s.failStatic));
    await etcd.restart(2);
  });
});
