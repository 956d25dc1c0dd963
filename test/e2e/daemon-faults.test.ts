/**
 * `flotilla daemon` as a real process under two faults, with a real BIND9 (RFC 2136 + TSIG) and the embedded DNS
 * server as providers and two real mirrors on loopback (interval 250 ms, fall 3, rise 2):
 * - its state directory becomes immutable (`chattr +i`, which binds root too): it keeps failing over from memory,
 *   alerts once, and saves again once the directory is writable;
 * - SIGKILLed right after a failover reached DNS, before its health was saved: restarted, it never publishes the
 *   dead mirror again (BIND sampled continuously through the restart).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queryDns } from '../../src/dns/dns-client.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';
import { startBind, type DnsServerHandle } from '../support/bind-server.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { freePort } from '../support/ports.ts';
import { BIN, REPO } from '../support/run-cli.ts';

const ZONE = 'faults.test';
const IPS = ['127.0.0.51', '127.0.0.52'];

describe('flotilla daemon under faults', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-faults-'));
  const stateDir = join(dir, 'state');
  const stackFile = join(dir, 'stacks', 'Pulumi.faults.yaml');
  const contentDir = join(REPO, 'site');
  const mirrors: MirrorServer[] = [];
  const children = new Set<ReturnType<typeof spawn>>();
  const alerts: { kind: string; message: string }[] = [];
  let bind: DnsServerHandle;
  let hook: Server;
  let dnsPort = 0;
  let immutable: string[] = [];

  const chattr = (flag: '+i' | '-i', paths: string[]) => execFileSync('chattr', [flag, ...paths]);

  before(async () => {
    ensurePackages({ named: 'bind9', dig: 'dnsutils', chattr: 'e2fsprogs' });
    mkdirSync(stateDir);
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    for (const host of IPS) mirrors.push(await startMirror({ host, port: 0, contentDir }));
    bind = await startBind({ zones: [ZONE] });
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => { alerts.push(JSON.parse(body)); res.end('ok'); });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    dnsPort = await freePort();
    writeFileSync(stackFile, `config:
  flotilla:fleet:
    site: { name: faults, contentDir: ${contentDir} }
    domain: ${ZONE}
    mirrors:
${IPS.map((ip, i) => `      - { name: m${i + 1}, provider: local, ipv4: ${ip}, health: { port: ${mirrors[i].port} } }`).join('\n')}
    dnsProviders:
      - { name: bind, kind: rfc2136, settings: { server: "${bind.address}", tsigKeyName: ${bind.keyName}, tsigSecretEnv: FAULTS_TSIG } }
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${dnsPort}, zoneDir: ${join(dir, 'zones')} } }
    health: { interval: 250ms, timeout: 200ms, rise: 2, fall: 3 }
    policy: { ttl: 5, ownerId: faults }
    state: { path: ${stateDir} }
    alerts: { webhooks: [{ name: test, url: "http://127.0.0.1:${(hook.address() as { port: number }).port}/hook" }] }
`);
  });

  after(async () => {
    if (immutable.length > 0) chattr('-i', immutable.filter((f) => existsSync(f)));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(mirrors.map((m) => m.stop()));
    await bind?.stop();
    await new Promise((r) => hook?.close(r));
  });

  function startDaemon() {
    const child = spawn(process.execPath, [BIN, 'daemon', '--config', stackFile, '--no-http'], { cwd: dir, env: { ...process.env, FAULTS_TSIG: bind.secret }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const waitFor = async (re: RegExp, ms = 30_000) => {
      const t0 = Date.now();
      while (!re.test(out)) {
        if (child.exitCode !== null) assert.fail(`daemon exited (${child.exitCode}) before printing ${re}:\n${out}`);
        if (Date.now() - t0 > ms) assert.fail(`daemon never printed ${re}:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return { child, exited, waitFor, output: () => out };
  }

  const answer = async (server: string): Promise<string[] | undefined> => {
    const r = await queryDns({ server, name: ZONE, type: 'A', timeoutMs: 300 });
    return r.ok ? r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort() : undefined;
  };
  const servers = () => [bind.address, `127.0.0.1:${dnsPort}`];
  async function until(want: string[], what: string, ms = 8000, log: () => string = () => ''): Promise<void> {
    const t0 = Date.now();
    for (const s of servers()) {
      for (;;) {
        const v = await answer(s);
        if (v?.join(',') === want.join(',')) break;
        if (Date.now() - t0 > ms) assert.fail(`${s} never ${what}; it answers ${v}\n${log()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  it('an immutable state directory: failover continues from memory, one alert, saved again once writable', async () => {
    const d = startDaemon();
    await until(IPS, 'served both mirrors', 20_000, d.output);
    await d.waitFor(/verify: bind[^\n]*\n[^]*verify: embedded|verify: embedded[^\n]*\n[^]*verify: bind/);
    // between saves (a save caught half way leaves its lock file behind, a fault of its own)
    while (!existsSync(join(stateDir, 'state.json')) || existsSync(join(stateDir, 'state.lock'))) await new Promise((r) => setTimeout(r, 5));
    immutable = [stateDir, ...['state.json', 'audit.log'].map((f) => join(stateDir, f))];
    chattr('+i', immutable);
    await mirrors[0].stop();
    await until([IPS[1]], 'dropped m1 with the store unwritable');
    mirrors[0] = await startMirror({ host: IPS[0], port: mirrors[0].port, contentDir });
    await until(IPS, 'took m1 back with the store unwritable');
    await d.waitFor(/store-error: the state store failed/);
    assert.equal(d.child.exitCode, null, 'the daemon is still running');
    chattr('-i', immutable);
    immutable = [];
    await d.waitFor(/state saved again after/, 40_000);
    const storeAlerts = alerts.filter((a) => a.kind === 'store-error');
    assert.equal(storeAlerts.length, 1, JSON.stringify(alerts));
    assert.match(storeAlerts[0].message, /EPERM|operation not permitted/i);
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0, d.output());
    const st = await new FileStateStore(stateDir).load();
    assert.equal(st.health.m1.state, 'up');
  });

  it('SIGKILLed right after a failover, before the save: restarted, it never publishes the dead mirror', async () => {
    const d = startDaemon();
    await until(IPS, 'served both mirrors', 20_000, d.output);
    await mirrors[0].stop();
    await until([IPS[1]], 'dropped m1');
    d.child.kill('SIGKILL');
    await d.exited;
    // the save the kill lost: the health on disk still says m1 is up (it may have been saved just in time)
    await updateState(new FileStateStore(stateDir), (s) => { s.health.m1 = { ...s.health.m1, state: 'up', successStreak: 9, failureStreak: 0 }; });
    const seen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const v = await answer(bind.address);
        for (const ip of v ?? []) seen.add(ip);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const again = startDaemon();
    try {
      await again.waitFor(/flip: m1 is down/, 30_000);
      // keep sampling past the first decision after the restart, until every server answers it
      await again.waitFor(/decision: serve m2/, 30_000);
      await until([IPS[1]], 'answered m2 alone after the restart', 15_000, again.output);
    } finally {
      sampling = false;
      await sampler;
    }
    assert.ok(!seen.has(IPS[0]), `BIND answered the dead mirror after the restart:\n${again.output()}`);
    assert.ok(seen.has(IPS[1]));
    for (const s of servers()) assert.deepEqual(await answer(s), [IPS[1]]);
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0, again.output());
    mirrors[0] = await startMirror({ host: IPS[0], port: mirrors[0].port, contentDir });
  });
});
