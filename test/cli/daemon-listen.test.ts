import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports.ts';
import { BIN, REPO, runCli, type CliResult } from '../support/run-cli.ts';

/** `flotilla daemon` whose ports are taken: a clear error naming the setting, exit 2, no stack trace, no process left. */
describe('flotilla daemon: an address it cannot listen on', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-listen-'));
  let tcp: Server | undefined;
  let udp: Socket | undefined;
  let httpPort = 0;
  let dnsPort = 0;

  const stack = (o: { dnsListen?: string; dnsPort: number; httpPort: number }) => {
    writeFileSync(
      join(dir, 'stacks', 'Pulumi.l.yaml'),
      `config:
  flotilla:fleet:
    site: { name: l, contentDir: ${join(REPO, 'site')} }
    domain: listen.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.71 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: "${o.dnsListen ?? '127.0.0.1'}", port: ${o.dnsPort} } }
    health: { interval: 250ms, timeout: 200ms }
    state: { path: ${join(dir, 'state')} }
    server: { listen: 127.0.0.1, port: ${o.httpPort} }
`,
    );
  };
  const daemon = () => runCli(['daemon', '--stack', 'l'], { cwd: dir, timeoutMs: 30_000 });
  const assertListenError = (r: CliResult, path: string, ...needles: string[]) => {
    assert.equal(r.code, 2, `exit code\n${r.stdout}\n${r.stderr}`);
    assert.ok(r.stderr.includes('Pulumi.l.yaml'), `names the file:\n${r.stderr}`);
    assert.ok(r.stderr.includes(`flotilla:fleet.${path}`), `names the setting ${path}:\n${r.stderr}`);
    for (const n of needles) assert.ok(r.stderr.includes(n), `stderr lacks ${JSON.stringify(n)}:\n${r.stderr}`);
    assert.ok(!/\n\s+at .*:\d+:\d+/.test(r.stderr), `stack trace printed:\n${r.stderr}`);
    assert.ok(!/unexpected error/.test(r.stderr), r.stderr);
  };

  before(async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    httpPort = await freePort();
    dnsPort = await freePort();
    tcp = createServer();
    await new Promise<void>((resolve) => tcp!.listen(httpPort, '127.0.0.1', resolve));
    udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp!.bind(dnsPort, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((r) => tcp?.close(r));
    await new Promise<void>((r) => (udp ? udp.close(r) : r()));
  });

  it('the status page port in use by another process', async () => {
    stack({ dnsPort: await freePort(), httpPort });
    assertListenError(await daemon(), 'server.port', `127.0.0.1:${httpPort}`, 'already in use', 'choose another port');
  });

  it('the embedded DNS server port in use by another process', async () => {
    stack({ dnsPort, httpPort: await freePort() });
    assertListenError(await daemon(), 'dnsProviders[0].settings.port', `127.0.0.1:${dnsPort}`, 'already in use');
  });

  it('a privileged port without the right to bind it', async () => {
    // as root (the suite's normal case) the daemon runs in a network namespace of its own where ports below 1024 are
    // privileged whatever the host says, and without the capability to bind them, as an ordinary user is
    const root = process.getuid?.() === 0;
    const start = root ? 1024 : Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    assert.ok(start > 0, 'every port is unprivileged on this host: run the suite as root (it makes a namespace where they are not)');
    const low = root ? 1023 : await freeLowPort(Math.min(start, 1024) - 1);
    stack({ dnsPort: await freePort(), httpPort: low });
    const argv = [process.execPath, BIN, 'daemon', '--stack', 'l'];
    const script = 'ip link set lo up && sysctl -qw net.ipv4.ip_unprivileged_port_start=1024 && exec setpriv --bounding-set=-net_bind_service --inh-caps=-all "$@"';
    const [cmd, args] = root ? ['unshare', ['--net', 'sh', '-c', script, 'sh', ...argv]] : [argv[0], argv.slice(1)];
    const r = await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('error', reject);
      child.once('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
    });
    assertListenError(r, 'server.port', `127.0.0.1:${low}`, 'permission denied', 'above 1023');
  });

  it('a listen address that is not an IP address is refused before anything starts', async () => {
    stack({ dnsListen: 'dns.example.org', dnsPort: await freePort(), httpPort: await freePort() });
    const r = await daemon();
    assertListenError(r, 'dnsProviders[0].settings.listen', 'expected an IP address');
    assert.equal(r.stdout, '', 'nothing started');
  });
});

/** A port below `from`+1 that nothing listens on at 127.0.0.1 (tried by binding it, then let go). */
async function freeLowPort(from: number): Promise<number> {
  if (process.getuid?.() !== 0) return from; // an ordinary user cannot bind it to check, and neither can the daemon
  for (let p = from; p > from - 100; p--) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return p;
  }
  throw new Error('no free privileged port on 127.0.0.1');
}
